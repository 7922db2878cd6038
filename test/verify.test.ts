import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MockAdminClient, MockVerificationError, type CallCount } from '../src/mock/index.js';
import { verifyJournal } from '../src/mock/admin/verify.js';
import { jpeg } from './helpers/images.js';
import { sendImage, startTestMock } from './helpers/server.js';

describe('POST /__admin/verify and MockAdminClient.verify', () => {
  it('counts each license’s calls apart under parallel requests, and prints the nearest misses when wrong', async () => {
    const mock = await startTestMock();
    const admin = new MockAdminClient(mock.url);
    const a = await admin.createLicense({ credits: 10, maxConcurrent: 8 });
    const b = await admin.createLicense({ credits: 10, maxConcurrent: 8 });
    const image = await jpeg(40, 30, [10, 200, 90]);
    const since = new Date().toISOString();

    await Promise.all([
      sendImage(mock.endpoint, image, { licenseId: a.licenseId, apiKey: a.apiKey }),
      sendImage(mock.endpoint, image, { licenseId: a.licenseId, apiKey: a.apiKey }),
      sendImage(mock.endpoint, image, { licenseId: a.licenseId, apiKey: a.apiKey, includeCroppedImage: 'true' }),
      sendImage(mock.endpoint, image, { licenseId: b.licenseId, apiKey: b.apiKey }),
      sendImage(mock.endpoint, image, { licenseId: b.licenseId, apiKey: 'wrong' }),
    ]);

    await admin.verify({ licenseId: a.licenseId, status: 200 }, { exactly: 3 });
    await admin.verify({ licenseId: a.licenseId, includeCroppedImage: true }, { exactly: 1 });
    await admin.verify({ licenseId: b.licenseId, code: 'invalid_license' }, { exactly: 1 });
    await admin.verify({ licenseId: b.licenseId, status: 402 }, { never: true });
    const sha = createHash('sha256').update(image).digest('hex');
    await admin.verify({ imageSha256: sha, since }, { exactly: 5 });
    await admin.verify({ since: new Date(Date.now() + 60_000).toISOString() }, { never: true });

    const wrong = await admin.verify({ licenseId: a.licenseId, status: 200, includeCroppedImage: true }, { exactly: 2 }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(MockVerificationError);
    const message = (wrong as Error).message;
    expect(message).toContain(`Expected exactly 2 request(s) matching {"licenseId":"${a.licenseId}","status":200,"includeCroppedImage":true}, the mock saw 1.`);
    expect(message).toMatch(/Nearest misses:\n {2}#\d+ \S+ POST \/beia-api\/v1\/image 200: includeCroppedImage false \(not true\)/);
    expect(message).not.toContain(b.licenseId); // another license's calls are not its near misses

    const refused = await fetch(`${mock.url}/__admin/verify`, { method: 'POST', body: JSON.stringify({ pattern: { statsu: 200 }, count: { exactly: 1 } }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/body\.pattern.*statsu/);
  });

  it('holds atLeast and atMost at their boundaries: exactly N passes both, one past fails each', () => {
    const entry = (seq: number) => ({
      seq,
      time: new Date(seq * 1000).toISOString(),
      method: 'POST',
      path: '/beia-api/v1/image',
      status: 200,
      durationMs: 1,
      parts: [],
      licenseId: 'L',
    });
    const entries = [1, 2, 3].map(entry);
    const ok = (count: CallCount) => verifyJournal(entries, { licenseId: 'L' }, count).ok;
    expect([ok({ atMost: 3 }), ok({ atMost: 2 }), ok({ atMost: 4 })]).toEqual([true, false, true]);
    expect([ok({ atLeast: 3 }), ok({ atLeast: 4 }), ok({ atLeast: 2 })]).toEqual([true, false, true]);
    expect([ok({ exactly: 3 }), ok({ exactly: 2 }), ok({ never: true })]).toEqual([true, false, false]);
  });
});
