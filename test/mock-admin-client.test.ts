import { describe, expect, it } from 'vitest';
import { MockAdminClient, MockAdminError, startMockServer } from '../src/mock/index.js';
import { jpeg } from './helpers/images.js';
import { sendImage, startTestMock } from './helpers/server.js';

describe('MockAdminClient', () => {
  it('steers a mock on a port: credits, faults, journal, licenses, reset', async () => {
    const mock = await startTestMock({}, { adminToken: 'tok' });
    const admin = new MockAdminClient(mock.url, { token: 'tok' });
    expect(await admin.health()).toMatchObject({ status: 'ok', inFlight: 0 });

    expect(await admin.setCredits('1234', 1)).toMatchObject({ licenseId: '1234', credits: 1, apiKey: '***' });
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(200);
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(402);
    const journal = await admin.journal({ licenseId: '1234', limit: 1 });
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ status: 402, licenseId: '1234' });

    await admin.setCredits('1234', 5);
    const fault = await admin.armFault({ type: 'error', count: 1 });
    expect(await admin.faults()).toEqual([expect.objectContaining({ id: fault.id, type: 'error' })]);
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(500);
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(200);

    await admin.putLicense({ licenseId: 'extra', apiKey: 'k', credits: 2, allowedIps: ['127.0.0.1'] });
    expect((await admin.licenses()).map((l) => l.licenseId)).toEqual(['1234', 'extra']);
    const reset = await admin.reset();
    expect(reset.licenses.map((l) => [l.licenseId, l.credits])).toEqual([['1234', 100]]);
    expect(await admin.journal()).toEqual([]);
  });

  it('throws a MockAdminError with the status, the code and the mock’s message', async () => {
    const mock = await startTestMock({}, { adminToken: 'tok' });
    const error = await new MockAdminClient(mock.url).licenses().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MockAdminError);
    expect(error).toMatchObject({ name: 'MockAdminError', status: 401, code: 'admin_unauthorized' });
    expect((error as Error).message).toContain("Failed to call the mock's admin API (GET /licenses): 401 The admin API needs a token");
    const missing = await new MockAdminClient(mock.url, { token: 'tok' }).setCredits('nope', 1).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'admin_not_found' });
  });
});

describe('startMockServer beyond loopback', () => {
  it('makes an admin token when none is given, and names a URL this machine can call', async () => {
    const mock = await startMockServer({ host: '0.0.0.0', port: 0, shutdownGraceMs: 1_000 });
    try {
      expect(mock.adminTokenGenerated).toBe(true);
      expect(mock.adminToken).toMatch(/^[\w-]{24}$/);
      expect(mock.url).toBe(`http://127.0.0.1:${mock.port}`);
      expect(mock.config.licenses[0]!.allowedIps).toContain('172.16.0.0/12');
      await expect(new MockAdminClient(mock.url).licenses()).rejects.toMatchObject({ status: 401 });
      expect(await new MockAdminClient(mock.url, { token: mock.adminToken! }).licenses()).toHaveLength(1);
    } finally {
      await mock.close();
    }
  });

  it('keeps the token it is given, and loopback stays open without one', async () => {
    const given = await startMockServer({ host: '0.0.0.0', port: 0, adminToken: 'mine', shutdownGraceMs: 1_000 });
    expect([given.adminToken, given.adminTokenGenerated]).toEqual(['mine', false]);
    await given.close();
    const local = await startTestMock();
    expect([local.adminToken, local.adminTokenGenerated]).toEqual([undefined, false]);
    expect(await new MockAdminClient(local.url).licenses()).toHaveLength(1);
  });
});
