import { describe, expect, it } from 'vitest';
import { MockAdminClient } from '../src/mock/index.js';
import { jpeg } from './helpers/images.js';
import { sendImage, startTestMock } from './helpers/server.js';

describe('a license of its own for each parallel worker', () => {
  it('8 workers at once, each with its own license, never see each other’s credits or journal', async () => {
    const mock = await startTestMock();
    const admin = new MockAdminClient(mock.url);
    const workers = Array.from({ length: 8 }, (_, worker) => worker);

    const results = await Promise.all(
      workers.map(async (worker) => {
        const credits = 2 + (worker % 3);
        const license = await admin.createLicense({ credits, maxConcurrent: 4, ttlSeconds: 120 });
        const image = await jpeg(48 + worker, 32, [worker * 30, 80, 160]);
        // One request more than the credits, all at once: exactly `credits` 200s, then 402s.
        const answers = await Promise.all(
          Array.from({ length: credits + 1 }, () => sendImage(mock.endpoint, image, { licenseId: license.licenseId, apiKey: license.apiKey })),
        );
        // A 429 is possible when the requests race for the 4 slots; retry those once everything settled.
        const statuses = answers.map((a) => a.status);
        let requests = statuses.length;
        for (let i = 0; i < statuses.length; i++) {
          if (statuses[i] !== 429) continue;
          statuses[i] = (await sendImage(mock.endpoint, image, { licenseId: license.licenseId, apiKey: license.apiKey })).status;
          requests += 1;
        }
        const journal = await admin.journal({ licenseId: license.licenseId });
        const left = (await admin.license(license.licenseId)).credits;
        return { worker, license, credits, statuses, requests, journal, left };
      }),
    );

    const ids = new Set(results.map((r) => r.license.licenseId));
    expect(ids.size).toBe(8);
    for (const r of results) {
      expect(r.statuses.filter((s) => s === 200)).toHaveLength(r.credits);
      expect(r.statuses.filter((s) => s === 402)).toHaveLength(1);
      expect(r.left).toBe(0);
      // Its own journal holds exactly its own requests, none of the seven others'.
      expect(r.journal).toHaveLength(r.requests);
      expect(r.journal.every((entry) => entry.licenseId === r.license.licenseId)).toBe(true);
      expect(r.journal.filter((entry) => entry.status === 200)).toHaveLength(r.credits);
    }
    // The license of the config is untouched.
    expect((await admin.license('1234')).credits).toBe(100);
    await Promise.all(results.map((r) => admin.deleteLicense(r.license.licenseId)));
    expect((await admin.licenses()).map((l) => l.licenseId)).toEqual(['1234']);
  });
});
