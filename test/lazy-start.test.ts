import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

/** The packages a fresh node process has loaded after `script`. */
function packagesAfter(script: string): string[] {
  const code = `
    const { createRequire } = await import('node:module');
    ${script}
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify([...new Set(loaded.map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]).filter(Boolean))]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })) as string[];
}

describe('what loads before the first request', () => {
  it('the mock as `beia mock` starts it (mock/serve.ts) loads neither sharp, prom-client, node-forge, undici nor ioredis', () => {
    const loaded = packagesAfter(`
      const { startMockServer } = await import(${JSON.stringify(`${REPO}/dist/mock/serve.js`)});
      const mock = await startMockServer({ port: 0 });
      const res = await fetch(mock.url + '/__admin/health');
      if (res.status !== 200) throw new Error('health ' + res.status);
      await mock.close();
    `);
    for (const heavy of ['sharp', 'prom-client', 'node-forge', 'undici', 'ioredis']) expect(loaded).not.toContain(heavy);
  });

  it('beia-kit/client loads undici with its first request, not when imported', () => {
    expect(packagesAfter(`await import(${JSON.stringify(`${REPO}/dist/client/index.js`)});`)).not.toContain('undici');
  });

  it('the mock loads sharp with its first image and prom-client with its first scrape', () => {
    const loaded = packagesAfter(`
      const { startMockServer } = await import(${JSON.stringify(`${REPO}/dist/mock/serve.js`)});
      const mock = await startMockServer({ port: 0 });
      await (await fetch(mock.url + '/__admin/metrics')).text();
      const form = new FormData();
      form.append('licenseId', '1234');
      form.append('apiKey', '5678');
      form.append('image', new Blob([Buffer.from('not an image')], { type: 'image/jpeg' }), 'a.jpg');
      const res = await fetch(mock.endpoint, { method: 'POST', body: form, headers: { 'License-Id': '1234' } });
      if (res.status !== 415) throw new Error('image ' + res.status);
      await mock.close();
    `);
    expect(loaded).toEqual(expect.arrayContaining(['sharp', 'prom-client']));
  });
});
