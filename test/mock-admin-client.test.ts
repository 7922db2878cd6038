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

  it('says which address did not answer, as a MockAdminError, and gives up after its timeout', async () => {
    const refused = await new MockAdminClient('http://127.0.0.1:9').health().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MockAdminError);
    expect(refused).toMatchObject({ status: 0, code: 'admin_unreachable' });
    expect((refused as Error).message).toContain("Failed to call the mock's admin API (GET http://127.0.0.1:9/__admin/health): ");
    expect((refused as Error).message).toContain('Is the mock running at that address?');

    // A server that takes the connection and never answers.
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const slow = await new MockAdminClient(`http://127.0.0.1:${port}`, { timeoutMs: 200 }).health().catch((e: unknown) => e);
      expect(slow).toMatchObject({ status: 0, code: 'admin_unreachable' });
      expect((slow as Error).message).toContain('no answer within 200 ms');
    } finally {
      silent.close();
    }
  });

  it('a license put without allowedIps gets the default allowlist of where the mock listens', async () => {
    const local = await startTestMock();
    expect((await new MockAdminClient(local.url).putLicense({ licenseId: 'new', apiKey: 'k' })).allowedIps).toEqual(['127.0.0.1', '::1']);
    const beyond = await startTestMock({}, { host: '0.0.0.0', adminToken: 't' });
    expect((await new MockAdminClient(beyond.url, { token: 't' }).putLicense({ licenseId: 'new', apiKey: 'k' })).allowedIps).toContain('192.168.0.0/16');
    expect((await sendImage(local.endpoint, await jpeg(), { licenseId: 'new', apiKey: 'k' })).status).toBe(402); // no credits given: 0
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
      await mock.close(); // startMockServer itself: startTestMock would pass a config
    }
  });

  it('keeps the token it is given, and loopback stays open without one', async () => {
    const given = await startTestMock({}, { host: '0.0.0.0', adminToken: 'mine' });
    expect([given.adminToken, given.adminTokenGenerated]).toEqual(['mine', false]);
    const local = await startTestMock();
    expect([local.adminToken, local.adminTokenGenerated]).toEqual([undefined, false]);
    expect(await new MockAdminClient(local.url).licenses()).toHaveLength(1);
  });
});
