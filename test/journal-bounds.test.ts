import { describe, expect, it } from 'vitest';
import type { RequestLogLine } from '../src/mock/index.js';
import { inProcessMock } from './helpers/app.js';
import { rawForm } from './helpers/forms.js';

const CUT = '…[cut]';

describe('the journal, bounded per entry and in bytes (issue 18, item 5)', () => {
  it('cuts 7 KB part names and 8 KB filenames, and keeps GET /__admin/journal under journal.maxBytes', async () => {
    const maxBytes = 64 * 1024;
    const lines: RequestLogLine[] = [];
    const mock = inProcessMock({ journal: { maxEntries: 1000, maxBytes } }, { logger: (line) => lines.push(line) });
    for (let i = 0; i < 50; i++) {
      // Eight parts, as many as limits.maxParts lets through, named and filed at length: all fits
      // busboy's 16 KiB of part headers, so the form is read and its parts go to the journal.
      const form = rawForm(
        Array.from({ length: 8 }, (_, part) => ({
          name: `${part}${'n'.repeat(7 * 1024)}`,
          filename: `${part}${'f'.repeat(8 * 1024)}`,
          contentType: `image/${'t'.repeat(500)}`,
          data: new Uint8Array([i, part]),
        })),
      );
      const response = await mock.post(form, { headers: { 'License-Id': 'L'.repeat(7 * 1024) } });
      expect(response.status).toBe(400);
      await response.arrayBuffer();
    }
    // A long path the mock answers with a 404 is journaled as well.
    await (await mock.app.request(`/${'p'.repeat(9000)}`)).arrayBuffer();

    const response = await mock.admin('GET', '/journal');
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes);
    const journal = JSON.parse(text) as Array<{
      seq: number;
      path: string;
      licenseId?: string;
      parts: Array<{ name: string; filename?: string; contentType?: string }>;
      responseHeaders?: Record<string, string>;
    }>;
    // The newest entries are kept: the 404 is the last of 51.
    expect(journal.at(-1)).toMatchObject({ seq: 51, path: `/${'p'.repeat(255)}${CUT}` });
    expect(journal.length).toBeGreaterThan(5);
    expect(journal.length).toBeLessThan(51);
    const withParts = journal.filter((entry) => entry.parts.length > 0);
    expect(withParts.length).toBe(journal.length - 1);
    for (const entry of withParts) {
      expect(entry.licenseId).toBe(`${'L'.repeat(256)}${CUT}`);
      expect(entry.parts).toHaveLength(8);
      for (const part of entry.parts) {
        for (const value of [part.name, part.filename!, part.contentType!]) {
          expect(value.length).toBeLessThanOrEqual(262);
          expect(value.endsWith(CUT)).toBe(true);
        }
      }
      for (const value of Object.values(entry.responseHeaders ?? {})) expect(value.length).toBeLessThanOrEqual(262);
    }
    // The log line carries the same cut values.
    expect(lines).toHaveLength(52);
    for (const line of lines) {
      expect(line.path.length).toBeLessThanOrEqual(262);
      expect((line.licenseId ?? '').length).toBeLessThanOrEqual(262);
    }
    expect(lines[0]!.licenseId).toBe(`${'L'.repeat(256)}${CUT}`);
    expect(lines[50]!.path).toBe(`/${'p'.repeat(255)}${CUT}`);
  });
});
