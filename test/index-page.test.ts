import { describe, expect, it } from 'vitest';
import { IMAGE_PATH } from '../src/contract/index.js';
import { MOCK_VERSION } from '../src/mock/index.js';
import { inProcessMock } from './helpers/app.js';

describe('GET / points a browser to the dashboard and a script to the endpoint', () => {
  it('answers a browser with a small HTML page linking the endpoint, dashboard, health and OpenAPI document', async () => {
    const mock = inProcessMock();
    const res = await mock.app.request('/', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    for (const path of ['/__admin/ui', '/__admin/health', '/__admin/openapi.json', IMAGE_PATH]) expect(html).toContain(`<a href="${path}">`);
    expect(html).toContain(`beia mock ${MOCK_VERSION}`);
    expect(res.headers.get('x-beia-mock-version')).toBe(MOCK_VERSION);
  });

  it('answers anything else with the same links as JSON, and keeps neither in the journal', async () => {
    const mock = inProcessMock();
    const res = await mock.app.request('/');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'beia mock',
      version: MOCK_VERSION,
      links: { endpoint: IMAGE_PATH, dashboard: '/__admin/ui', health: '/__admin/health', openapi: '/__admin/openapi.json', admin: '/__admin' },
    });
    expect(await mock.store.listJournal()).toEqual([]);
  });
});
