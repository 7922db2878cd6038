import { parseMultipart } from '@remix-run/multipart-parser';
import { describe, expect, it } from 'vitest';
import { encodeMultipartMixed, encodeMultipartMixedChunks, safeBoundary } from './multipart-mixed.js';

describe('encodeMultipartMixed', () => {
  it('encodes binary parts that a standard parser reads back byte for byte', () => {
    const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d, 0x89, 0x50]);
    const { contentType, body } = encodeMultipartMixed([
      {
        headers: [
          ['Content-Type', 'image/png'],
          ['Content-Disposition', 'inline; name="result"; filename="result.png"'],
        ],
        body: binary,
      },
      {
        headers: [
          ['Content-Type', 'text/plain'],
          ['Content-Disposition', 'inline; name="credits"'],
        ],
        body: Buffer.from('41'),
      },
    ]);
    const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
    expect(contentType.startsWith('multipart/mixed; boundary=')).toBe(true);
    const parts = [...parseMultipart(body, { boundary })];
    expect(parts.map((p) => p.name)).toEqual(['result', 'credits']);
    expect(Buffer.from(parts[0]!.bytes)).toEqual(binary);
    expect(parts[1]!.text).toBe('41');
    expect(parts[0]!.headers['content-type']).toBe('image/png');
  });

  it('picks a boundary that does not occur in any part', () => {
    const { contentType, body } = encodeMultipartMixed([{ headers: [['Content-Type', 'text/plain']], body: Buffer.from('beia-') }]);
    const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
    expect(body.toString('latin1').split(`--${boundary}`)).toHaveLength(3);
  });

  it('refuses a boundary RFC 2046 does not allow', () => {
    expect(() => encodeMultipartMixed([], 'has space;')).toThrow(/not a valid RFC 2046 boundary/);
  });
});

describe('safeBoundary', () => {
  it('takes the preferred boundary when no body holds it, and another when one does', () => {
    const png = Buffer.from('\x89PNG some bytes');
    expect(safeBoundary([png], 'beia-abc')).toBe('beia-abc');
    const holding = Buffer.from('...--beia-abc...');
    const other = safeBoundary([png, holding], 'beia-abc');
    expect(other).toMatch(/^beia-[0-9a-f]{32}$/);
    expect(holding.includes(other)).toBe(false);
  });

  it('looks only at the bytes of a view, not at the rest of its buffer', () => {
    const whole = Buffer.from('beia-abc|clean part');
    expect(safeBoundary([whole.subarray(9)], 'beia-abc')).toBe('beia-abc');
  });
});

describe('encodeMultipartMixedChunks', () => {
  it('passes large bodies through uncopied, joins small ones into the framing, and adds up to the same bytes', () => {
    const large = Buffer.alloc(10_000, 0xab);
    const binarySmall = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a]);
    const parts = [
      { headers: [['Content-Type', 'image/png']] as [string, string][], body: large },
      { headers: [['Content-Type', 'application/octet-stream']] as [string, string][], body: binarySmall },
      { headers: [['Content-Type', 'text/plain']] as [string, string][], body: Buffer.alloc(0) },
    ];
    const { chunks, length, contentType } = encodeMultipartMixedChunks(parts, 'b-1');
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(large);
    const joined = Buffer.concat(chunks);
    expect(joined.length).toBe(length);
    expect(joined.equals(encodeMultipartMixed(parts, 'b-1').body)).toBe(true);
    const read = [...parseMultipart(new Uint8Array(joined), { boundary: 'b-1' })];
    expect(contentType).toBe('multipart/mixed; boundary=b-1');
    expect(Buffer.from(read[1]!.bytes).equals(binarySmall)).toBe(true);
    expect(read[2]!.bytes.length).toBe(0);
  });
});
