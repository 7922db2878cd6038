import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ALL_CASES, runConformance } from '../../src/conformance/index.js';
import { makeSamples } from '../../src/conformance/samples.js';
import { MockAdminClient } from '../../src/mock/index.js';
import { RecordingFolder } from '../../src/mock/recordings/folder.js';
import { startTestMock } from '../helpers/server.js';

describe('M6 with replay on (the documented exception)', () => {
  it("passes on a replaying mock whose recording of the suite's sample has another size than the input: the same bytes twice is what holds", async () => {
    const samples = await makeSamples();
    const sha256 = createHash('sha256').update(samples.jpeg).digest('hex');
    // What "the live API" answered for the sample: a PNG of another size than the input.
    const recorded = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 90, b: 160 } } })
      .png()
      .toBuffer();
    const dir = await mkdtemp(join(tmpdir(), 'beia-m6-'));
    const folder = await RecordingFolder.open(dir, { create: true });
    for (const includeCroppedImage of [false, true]) {
      await folder.keep({
        sha256,
        includeCroppedImage,
        liveUrl: 'https://live.invalid/beia-api/v1/image',
        uploadBytes: samples.jpeg.length,
        headers: {},
        result: recorded,
        ...(includeCroppedImage ? { cropped: recorded } : {}),
      });
    }
    const mock = await startTestMock({}, { replay: { recordings: await RecordingFolder.open(dir), strict: false } });
    const target = { endpoint: mock.endpoint, kind: 'mock' as const, credentials: { licenseId: '1234', apiKey: '5678' }, admin: new MockAdminClient(mock.url) };
    // Judged as on a beia mock (its defaults are asserted there, only observed on a URL).
    const report = await runConformance(target, ALL_CASES, { only: ['M6-result-image'] });
    const m6 = report.outcomes.find((o) => o.id === 'M6-result-image')!;
    expect(m6.status, m6.message).toBe('pass');
    expect((await mock.store.listJournal()).some((entry) => (entry as { replayed?: boolean }).replayed === true)).toBe(true);
  });
});
