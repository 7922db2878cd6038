import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateNames, localCertificate, MockAdminClient } from '../src/mock/index.js';
import { jpeg } from './helpers/images.js';
import { sendImage, startTestMock } from './helpers/server.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

async function tlsDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'beia-tls-'));
}

describe('the mock over HTTPS', () => {
  it('makes a CA and a server certificate once, keeps the keys private, and reuses both on the next start', async () => {
    const dir = await tlsDir();
    const first = await localCertificate(dir, certificateNames('127.0.0.1'));
    expect(first.made).toBe('ca');
    expect((await stat(join(dir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'server-key.pem'))).mode & 0o777).toBe(0o600);
    const again = await localCertificate(dir, certificateNames('127.0.0.1'));
    expect(again.made).toBe('none');
    expect(again.cert).toBe(first.cert);
    // A new name: a new server certificate from the same CA, so what clients trust still holds.
    const ca = await readFile(first.caFile, 'utf8');
    const wider = await localCertificate(dir, [...certificateNames('127.0.0.1'), 'mock.test']);
    expect(wider.made).toBe('server');
    expect(await readFile(wider.caFile, 'utf8')).toBe(ca);
  });

  it('serves the image route, the admin API and the faults over TLS to a client that trusts the CA, and refuses one that does not', async () => {
    const tls = await localCertificate(await tlsDir(), certificateNames('127.0.0.1'));
    const mock = await startTestMock({}, { tls });
    expect(mock.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image$/);
    const trusting = new Agent({ connect: { ca: await readFile(tls.caFile, 'utf8') } });
    try {
      const ok = await sendImage(mock.endpoint, image, { dispatcher: trusting });
      expect(ok.status).toBe(200);
      expect(ok.headers['credits-remaining']).toBe('99');
      // localhost is on the certificate too.
      const byName = await sendImage(mock.endpoint.replace('127.0.0.1', 'localhost'), image, { dispatcher: trusting });
      expect(byName.status).toBe(200);

      const admin = new MockAdminClient(mock.url, { dispatcher: trusting });
      expect((await admin.health()).status).toBe('ok');
      await admin.armFault({ type: 'reset' });
      await expect(sendImage(mock.endpoint, image, { dispatcher: trusting })).rejects.toThrow();
      await admin.armFault({ type: 'truncate' });
      await expect(sendImage(mock.endpoint, image, { dispatcher: trusting })).rejects.toThrow();
      const scenario = await sendImage(mock.endpoint, image, { dispatcher: trusting, headers: { 'X-Beia-Mock-Scenario': '429' } });
      expect(scenario.status).toBe(429);
      expect((await admin.journal()).map((entry) => entry.status)).toEqual([200, 200, 444, 200, 429]);

      await expect(request(`${mock.url}/__admin/health`)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    } finally {
      await trusting.close();
    }
  });
});
