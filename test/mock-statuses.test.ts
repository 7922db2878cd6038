import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode, inProcessMock } from './helpers/app.js';
import { rawForm } from './helpers/forms.js';
import { jpeg, pngBomb, truncatedJpeg } from './helpers/images.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

describe('every status of the vendor table, in-process', () => {
  it('200: a PNG, and one credit spent', async () => {
    const mock = inProcessMock();
    const res = await mock.postImage({ image });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('credits-remaining')).toBe('99');
    expect(await mock.credits()).toBe(99);
  });

  describe('400: missing or invalid parameters, nothing spent, no Credits-Remaining', () => {
    const cases: Array<[string, () => Parameters<ReturnType<typeof inProcessMock>['post']>, string]> = [
      ['a JSON body', () => ['{"licenseId":"1234"}', { headers: { 'Content-Type': 'application/json' } }], 'unsupported_content_type'],
      ['multipart without a boundary', () => [{ body: Buffer.from('x'), contentType: 'multipart/form-data' }], 'unsupported_content_type'],
      [
        'no licenseId',
        () => [
          rawForm([
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
        ],
        'missing_field',
      ],
      [
        'no apiKey',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
        ],
        'missing_field',
      ],
      [
        'no image',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
          ]),
        ],
        'missing_field',
      ],
      [
        'the image as a text field',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', value: 'abc' },
          ]),
        ],
        'invalid_field',
      ],
      [
        'an empty image file',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: new Uint8Array() },
          ]),
        ],
        'missing_field',
      ],
      [
        'apiKey sent twice',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
        ],
        'duplicate_field',
      ],
      [
        'two images',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: image },
            { name: 'image', filename: 'b.jpg', data: image },
          ]),
        ],
        'duplicate_field',
      ],
      [
        'too many parts',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            ...Array.from({ length: 10 }, (_, i) => ({ name: `x${i}`, value: 'y' })),
          ]),
        ],
        'too_many_parts',
      ],
      [
        'includeCroppedImage sent as a file',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'includeCroppedImage', filename: 'x.txt', data: Buffer.from('true') },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
        ],
        'invalid_field',
      ],
      [
        'includeCroppedImage=yes',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'includeCroppedImage', value: 'yes' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
        ],
        'invalid_field',
      ],
      [
        'a body cut short',
        () => {
          const { body, contentType } = rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]);
          return [{ body: body.subarray(0, body.length - 40), contentType }];
        },
        'malformed_multipart',
      ],
      [
        'no License-Id header',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
          { headers: { 'License-Id': null } },
        ],
        'missing_license_header',
      ],
      [
        'a License-Id header that differs from the form',
        () => [
          rawForm([
            { name: 'licenseId', value: '1234' },
            { name: 'apiKey', value: '5678' },
            { name: 'image', filename: 'a.jpg', data: image },
          ]),
          { headers: { 'License-Id': '9999' } },
        ],
        'license_header_mismatch',
      ],
    ];
    it.each(cases)('%s', async (_title, request, code) => {
      const mock = inProcessMock();
      const res = await mock.post(...request());
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe(code);
      expect(res.headers.get('credits-remaining')).toBeNull();
      expect(await mock.credits()).toBe(100);
    });

    it('a message that says what to do', async () => {
      const res = await inProcessMock().post(
        rawForm([
          { name: 'licenseId', value: '1234' },
          { name: 'image', filename: 'a.jpg', data: image },
        ]),
      );
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toBe('Field "apiKey" is missing or empty. Send licenseId, apiKey and image in the form.');
    });
  });

  it('a missing License-Id header is accepted when rules.requireLicenseHeader is off', async () => {
    const mock = inProcessMock({ rules: { requireLicenseHeader: false } });
    expect((await mock.postImage({ image }, { headers: { 'License-Id': null } })).status).toBe(200);
  });

  it('401: unknown license or wrong key, without Credits-Remaining', async () => {
    const mock = inProcessMock();
    const wrongKey = await mock.postImage({ image, apiKey: '0000' });
    expect(wrongKey.status).toBe(401);
    expect(await errorCode(wrongKey)).toBe('invalid_license');
    expect(wrongKey.headers.get('credits-remaining')).toBeNull();
    const unknown = await mock.postImage({ image, licenseId: '4321' }, { headers: { 'License-Id': '4321' } });
    expect(unknown.status).toBe(401);
    expect(await mock.credits()).toBe(100);
  });

  it('402: no credits left, with Credits-Remaining: 0', async () => {
    const mock = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 0 }] });
    const res = await mock.postImage({ image });
    expect(res.status).toBe(402);
    expect(await errorCode(res)).toBe('no_credits');
    expect(res.headers.get('credits-remaining')).toBe('0');
  });

  it('402 comes exactly when the last credit is spent, never before, and credits never go below zero', async () => {
    const mock = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 2 }] });
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await mock.postImage({ image });
      answers.push([res.status, res.headers.get('credits-remaining')]);
    }
    expect(answers).toEqual([
      [200, '1'],
      [200, '0'],
      [402, '0'],
      [402, '0'],
    ]);
    expect(await mock.credits()).toBe(0);
  });

  it('403: a source address outside the allowlist, decided before the body is read', async () => {
    const mock = inProcessMock();
    const res = await mock.post('not even a form', { peerAddress: '192.0.2.1', headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('ip_not_allowed');
    expect(res.headers.get('credits-remaining')).toBeNull();
  });

  it('403 also when the License-Id header is missing: the form names the license', async () => {
    const mock = inProcessMock();
    const res = await mock.postImage({ image }, { peerAddress: '192.0.2.1', headers: { 'License-Id': null } });
    expect(res.status).toBe(403);
  });

  it('an allowlisted CIDR block lets its addresses in', async () => {
    const mock = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['10.0.0.0/8', '2001:db8::/32'] }] });
    expect((await mock.postImage({ image }, { peerAddress: '10.20.30.40' })).status).toBe(200);
    expect((await mock.postImage({ image }, { peerAddress: '2001:db8::5' })).status).toBe(200);
    expect((await mock.postImage({ image }, { peerAddress: '127.0.0.1' })).status).toBe(403);
  });

  it('429: no free slot, with Retry-After and Credits-Remaining, nothing spent', async () => {
    const mock = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 0 }], processing: { retryAfterSeconds: 3 } });
    const res = await mock.postImage({ image });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('credits-remaining')).toBe('100');
    expect(await errorCode(res)).toBe('too_many_requests');
  });

  describe('415: the file does not decode, nothing spent, with Credits-Remaining', () => {
    it.each([
      ['a text file', () => Buffer.from('hello, I am not an image\n'), 'unsupported_file'],
      ['a truncated JPEG (its header is fine)', () => truncatedJpeg(), 'unsupported_file'],
      ['a decompression bomb', () => pngBomb(), 'image_too_large'],
    ])('%s', async (_title, make, code) => {
      const mock = inProcessMock();
      const res = await mock.postImage({ image: await make() });
      expect(res.status).toBe(415);
      expect(await errorCode(res)).toBe(code);
      expect(res.headers.get('credits-remaining')).toBe('100');
      expect(await mock.credits()).toBe(100);
      expect(await mock.store.inFlight()).toBe(0);
    });
  });

  it('413: a file over the upload limit', async () => {
    const mock = inProcessMock({ limits: { maxUploadBytes: 1000 } });
    const res = await mock.postImage({ image: Buffer.alloc(5000, 1) });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
  });

  it('500: an injected fault, nothing spent, with Credits-Remaining', async () => {
    const mock = inProcessMock();
    await mock.admin('POST', '/faults', { type: 'error', count: 1 });
    const res = await mock.postImage({ image });
    expect(res.status).toBe(500);
    expect(await errorCode(res)).toBe('internal_error');
    expect(res.headers.get('credits-remaining')).toBe('100');
    expect((await mock.postImage({ image })).status).toBe(200);
    expect(await mock.credits()).toBe(99);
  });

  it('404 and 405 for other routes and methods, in the same envelope', async () => {
    const { app } = inProcessMock();
    const missing = await app.request('/beia-api/v2/image', { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('not_found');
    const wrongMethod = await app.request('/beia-api/v1/image');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('precedence: the first failing check answers (M1)', () => {
  const zeroCredits = { licenses: [{ licenseId: '1234', apiKey: '5678', credits: 0, maxConcurrent: 0 }] };
  const busy = { licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 0 }] };

  it('403 before 400: a bad body from a foreign address', async () => {
    expect((await inProcessMock().post('x', { peerAddress: '192.0.2.1', headers: { 'Content-Type': 'text/plain' } })).status).toBe(403);
  });
  it('400 before 401: a wrong key and a missing image', async () => {
    const res = await inProcessMock().post(
      rawForm([
        { name: 'licenseId', value: '1234' },
        { name: 'apiKey', value: 'bad' },
      ]),
    );
    expect(res.status).toBe(400);
  });
  it('401 before 402: a wrong key on a license without credits', async () => {
    expect((await inProcessMock(zeroCredits).postImage({ image, apiKey: 'bad' })).status).toBe(401);
  });
  it('402 before 429: no credits and no free slot', async () => {
    expect((await inProcessMock(zeroCredits).postImage({ image })).status).toBe(402);
  });
  it('429 before 415: no free slot and a file that is not an image', async () => {
    expect((await inProcessMock(busy).postImage({ image: Buffer.from('text') })).status).toBe(429);
  });
  it('a different rules.checkOrder changes the answer: image before slot gives 415', async () => {
    const order = ['ip-allowlist', 'content-type', 'form', 'license-header', 'auth', 'credits', 'image', 'slot'];
    expect((await inProcessMock({ ...busy, rules: { checkOrder: order } }).postImage({ image: Buffer.from('text') })).status).toBe(415);
  });
  it('auth before ip-allowlist: a wrong key from a foreign address gives 401', async () => {
    const order = ['content-type', 'form', 'license-header', 'auth', 'ip-allowlist', 'credits', 'slot', 'image'];
    expect((await inProcessMock({ rules: { checkOrder: order } }).postImage({ image, apiKey: 'bad' }, { peerAddress: '192.0.2.1' })).status).toBe(401);
  });
});

describe('Credits-Remaining on errors (M3)', () => {
  it('is left out of errors when rules.creditsRemainingOnErrors is false, kept on 200', async () => {
    const mock = inProcessMock({ rules: { creditsRemainingOnErrors: false } });
    expect((await mock.postImage({ image: Buffer.from('text') })).headers.get('credits-remaining')).toBeNull();
    expect((await mock.postImage({ image })).headers.get('credits-remaining')).toBe('99');
  });

  it('is sent on the listed statuses only when rules.creditsRemainingOnErrors is a list, as a profile of a live API sets it', async () => {
    const mock = inProcessMock({
      licenses: [
        { licenseId: '1234', apiKey: '5678', credits: 100 },
        { licenseId: 'zero', apiKey: 'z', credits: 0 },
      ],
      rules: { creditsRemainingOnErrors: [402] },
    });
    expect((await mock.postImage({ image: Buffer.from('text') })).headers.get('credits-remaining')).toBeNull(); // 415
    const broke = await mock.postImage({ image, licenseId: 'zero', apiKey: 'z' }, { headers: { 'License-Id': 'zero' } });
    expect(broke.status).toBe(402);
    expect(broke.headers.get('credits-remaining')).toBe('0');
  });

  it('refuses a list with a status that never carries it, naming the entry', () => {
    expect(() => inProcessMock({ rules: { creditsRemainingOnErrors: [402, 401] } })).toThrow(
      'config.rules.creditsRemainingOnErrors[1]: expected one of 400, 402, 415, 429, 500, got number 401',
    );
  });
});

describe('choices a profile can set beyond the defaults', () => {
  it('rules.lenientBooleans: with strictBooleans off, "maybe" reads as true (a multipart/mixed answer)', async () => {
    const lenient = await inProcessMock({ rules: { strictBooleans: false, lenientBooleans: true } }).postImage({ image, includeCroppedImage: 'maybe' });
    expect(lenient.status).toBe(200);
    expect(lenient.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    const asFalse = await inProcessMock({ rules: { strictBooleans: false } }).postImage({ image, includeCroppedImage: 'maybe' });
    expect(asFalse.headers.get('content-type')).toBe('image/png');
  });

  it('rules.unknownLicenseStatus: 403 answers an unknown license with a 403, a known one with a wrong key still 401', async () => {
    const mock = inProcessMock({ rules: { unknownLicenseStatus: 403 } });
    const unknown = await mock.postImage({ image, licenseId: 'nobody' }, { headers: { 'License-Id': 'nobody' } });
    expect(unknown.status).toBe(403);
    expect(await errorCode(unknown)).toBe('ip_not_allowed');
    expect((await mock.postImage({ image, apiKey: 'wrong' })).status).toBe(401);
    expect(() => inProcessMock({ rules: { unknownLicenseStatus: 404 } })).toThrow('config.rules.unknownLicenseStatus: expected 401 or 403');
  });
});

describe('error bodies (M9)', () => {
  it('plain text when rules.errorBody is "text"', async () => {
    const res = await inProcessMock({ rules: { errorBody: 'text' } }).postImage({ image, apiKey: 'bad' });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/^invalid_license: /);
  });
  it('empty when rules.errorBody is "none"', async () => {
    const res = await inProcessMock({ rules: { errorBody: 'none' } }).postImage({ image, apiKey: 'bad' });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
  });
});
