import { describe, expect, it } from 'vitest';
import { UnreadableResponseError } from './api-errors.js';
import { encodeMultipartMixed, type MixedPart } from './multipart-mixed.js';
import { decodeMultipartMixed, readImageBundle } from './multipart-mixed-reader.js';

const PNG_A = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1]);
const PNG_B = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 2]);

function read(parts: MixedPart[]) {
  const { contentType, body } = encodeMultipartMixed(parts);
  return readImageBundle(decodeMultipartMixed(body, contentType));
}

describe('readImageBundle', () => {
  it('finds parts by Content-Disposition name, in any order', () => {
    const bundle = read([
      {
        headers: [
          ['Content-Type', 'text/plain'],
          ['Content-Disposition', 'inline; name="credits"'],
        ],
        body: Buffer.from('17'),
      },
      {
        headers: [
          ['Content-Type', 'image/png'],
          ['Content-Disposition', 'inline; name="cropped"'],
        ],
        body: PNG_B,
      },
      {
        headers: [
          ['Content-Type', 'image/png'],
          ['Content-Disposition', 'attachment; name=result; filename="r.png"'],
        ],
        body: PNG_A,
      },
    ]);
    expect(bundle).toEqual({ result: new Uint8Array(PNG_A), cropped: new Uint8Array(PNG_B), credits: 17, labelledBy: 'content-disposition' });
  });

  it('falls back to Content-ID, with or without a host part', () => {
    const bundle = read([
      {
        headers: [
          ['Content-Type', 'image/png'],
          ['Content-ID', '<cropped@beia>'],
        ],
        body: PNG_B,
      },
      {
        headers: [
          ['Content-Type', 'image/png'],
          ['Content-ID', '<result@beia>'],
        ],
        body: PNG_A,
      },
      {
        headers: [
          ['Content-Type', 'application/json'],
          ['Content-ID', 'credits'],
        ],
        body: Buffer.from('{"remaining":5}'),
      },
    ]);
    expect(bundle).toMatchObject({ result: new Uint8Array(PNG_A), cropped: new Uint8Array(PNG_B), credits: 5, labelledBy: 'content-id' });
  });

  it('falls back to order and content type when parts have no labels', () => {
    const bundle = read([
      { headers: [['Content-Type', 'image/png']], body: PNG_A },
      { headers: [['Content-Type', 'image/png']], body: PNG_B },
      { headers: [['Content-Type', 'text/plain']], body: Buffer.from(' 3\n') },
    ]);
    expect(bundle).toMatchObject({ result: new Uint8Array(PNG_A), cropped: new Uint8Array(PNG_B), credits: 3, labelledBy: 'order' });
  });

  it('says what it saw when there is no image', () => {
    expect(() =>
      read([
        {
          headers: [
            ['Content-Type', 'text/plain'],
            ['Content-Disposition', 'inline; name="credits"'],
          ],
          body: Buffer.from('3'),
        },
      ]),
    ).toThrow('Failed to find the "result" image in the multipart/mixed answer; its parts were: #1 text/plain name=credits.');
  });

  it('refuses a body that is not multipart/mixed, naming its Content-Type', () => {
    expect(() => decodeMultipartMixed(Buffer.from('{}'), 'application/json')).toThrow(UnreadableResponseError);
    expect(() => decodeMultipartMixed(Buffer.from('{}'), 'application/json')).toThrow('got Content-Type "application/json"');
  });
});
