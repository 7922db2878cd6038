import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KnownUploads } from './known-uploads.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest();

describe('KnownUploads', () => {
  it('recognises the same bytes in another buffer, and gives their sha256', () => {
    const known = new KnownUploads(8, 1_000_000);
    const upload = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251));
    expect(known.recognise(upload)).toBeUndefined();
    known.remember(upload, sha(upload));
    expect(known.recognise(Buffer.from(upload))).toEqual(sha(upload));
  });

  it('never takes two uploads of the same length and the same sampled bytes for one', () => {
    const known = new KnownUploads(8, 1_000_000);
    const upload = Buffer.alloc(5000, 1);
    const other = Buffer.from(upload);
    other[1001] = 2; // between the sampled bytes: the same sample, other bytes
    known.remember(upload, sha(upload));
    expect(known.recognise(other)).toBeUndefined();
    known.remember(other, sha(other));
    expect(known.recognise(Buffer.from(other))).toEqual(sha(other));
    expect(known.recognise(Buffer.from(upload))).toEqual(sha(upload));
  });

  it('forgets the least recently seen beyond its bounds, and does not keep an upload over a quarter of its bytes', () => {
    const known = new KnownUploads(2, 10_000);
    const a = Buffer.alloc(100, 1);
    const b = Buffer.alloc(100, 2);
    const c = Buffer.alloc(100, 3);
    known.remember(a, sha(a));
    known.remember(b, sha(b));
    known.recognise(a);
    known.remember(c, sha(c));
    expect(known.recognise(b)).toBeUndefined();
    expect(known.recognise(a)).toEqual(sha(a));
    const big = Buffer.alloc(2501, 4);
    known.remember(big, sha(big));
    expect(known.recognise(big)).toBeUndefined();
  });
});
