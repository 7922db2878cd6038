import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  BeiaClient,
  InvalidLicenseError,
  IpNotAllowedError,
  NoCreditsError,
  TooManyRequestsError,
  UnsupportedFileError,
} from '../../src/client/index.js';
import { encodeMultipartMixed } from '../../src/contract/index.js';
import { REPO } from '../helpers/cli.js';
import { decode, jpeg, png } from '../helpers/images.js';
import { API_KEY, CONSUMER, LICENSE_ID, PROVIDER, STATE } from './interactions.js';

const { regex, contentType } = MatchersV3;
const PATH = '/beia-api/v1/image';
const BOUNDARY = 'pact-form-boundary';

const pact = new PactV4({ consumer: CONSUMER, provider: PROVIDER, dir: join(REPO, 'pacts'), logLevel: 'warn' });

// Pact merges into an existing file: start from none, so the file holds exactly these interactions.
beforeAll(async () => {
  await rm(join(REPO, 'pacts', `${CONSUMER}-${PROVIDER}.json`), { force: true });
});

let image: Buffer;
let resultPng: Buffer;
let croppedPng: Buffer;
beforeAll(async () => {
  image = await jpeg(64, 48);
  resultPng = await png(64, 48);
  croppedPng = await png(32, 24);
});

/** The request the client sends, as the pact's example: the vendor's four fields (D2, D9). */
function formBody(fields: { apiKey?: string; includeCroppedImage?: boolean; image: Buffer; contentType?: string }): Buffer {
  const text = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  let head = text('licenseId', LICENSE_ID) + text('apiKey', fields.apiKey ?? API_KEY);
  if (fields.includeCroppedImage) head += text('includeCroppedImage', 'true');
  head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="001.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), fields.image, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
}

type Builder = Parameters<NonNullable<Parameters<ReturnType<ReturnType<typeof pact.addInteraction>['uponReceiving']>['withRequest']>[2]>>[0];

/**
 * The image request, matched per part: the ids by regex, the image by its content type (sniffed
 * from its bytes), the boundary by regex since the client picks a random one.
 */
function imageRequest(fields: Parameters<typeof formBody>[0], imageType: string | null) {
  return (builder: Builder) => {
    builder
      .headers({
        'License-Id': regex('^\\S+$', LICENSE_ID),
        'Content-Type': regex('^multipart/form-data; ?boundary=.+$', `multipart/form-data; boundary=${BOUNDARY}`),
      })
      .body(`multipart/form-data; boundary=${BOUNDARY}`, formBody(fields))
      .matchingRules({
        body: [
          { path: '$.licenseId', rules: [regex('^\\S+$', LICENSE_ID)] },
          { path: '$.apiKey', rules: [regex('^\\S+$', fields.apiKey ?? API_KEY)] },
          // An empty file has no content type to sniff: then the part is matched by its exact bytes.
          ...(imageType ? [{ path: '$.image', rules: [contentType(imageType)] }] : []),
          ...(fields.includeCroppedImage ? [{ path: '$.includeCroppedImage', rules: [regex('^(?i:true|1)$', 'true')] }] : []),
        ],
      });
  };
}

// Each Pact mock server is new, and may reuse an earlier one's port: a fresh connection pool per
// test, so no kept-alive socket to a server that is gone is ever reused.
let pool: Agent | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});
const client = (endpoint: string, options: Partial<ConstructorParameters<typeof BeiaClient>[0]> = {}) => {
  pool = new Agent();
  return new BeiaClient({ endpoint: `${endpoint}${PATH}`, licenseId: LICENSE_ID, apiKey: API_KEY, retries: 0, dispatcher: pool, ...options });
};

const credits = (example: number) => regex('^\\d+$', String(example));

/**
 * Pact 16.3+ can report "expected but not received" for a request its mock server did answer,
 * when its bookkeeping lags behind the answer (pact-foundation/pact-reference#535). A pause after
 * the client's call, before Pact checks, lets the bookkeeping catch up.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('the BEIA API, as the reference client uses it', () => {
  it('answers a PNG and the credits left for an image (D4, D6)', async () => {
    await pact
      .addInteraction()
      .given(STATE.hasCredits)
      .uponReceiving('an image to process')
      .withRequest('POST', PATH, imageRequest({ image }, 'image/jpeg'))
      .willRespondWith(200, (builder) => {
        builder
          .headers({ 'Content-Type': regex('^image/png$', 'image/png'), 'Credits-Remaining': credits(99) })
          .body('image/png', resultPng)
          .matchingRules({ body: { path: '$', rules: [contentType('image/png')] } });
      })
      .executeTest(async (server) => {
        const answer = await client(server.url).process(image, { filename: '001.jpg' });
        expect(await decode(answer.result)).toMatchObject({ format: 'png', width: 64, height: 48 });
        expect(answer.creditsRemaining).toBe(99);
        await settle();
      });
  });

  it('answers multipart/mixed with result, cropped and credits when the cropped image is asked for (D5)', async () => {
    // Pact 16 cannot match the parts of a multipart/mixed answer: only its Content-Type is
    // checked, by regex, and the body is an opaque example. The parts are the conformance suite's job.
    const mixed = encodeMultipartMixed(
      [
        {
          headers: [
            ['Content-Type', 'image/png'],
            ['Content-Disposition', 'inline; name="result"; filename="result.png"'],
          ],
          body: resultPng,
        },
        {
          headers: [
            ['Content-Type', 'image/png'],
            ['Content-Disposition', 'inline; name="cropped"; filename="cropped.png"'],
          ],
          body: croppedPng,
        },
        {
          headers: [
            ['Content-Type', 'text/plain'],
            ['Content-Disposition', 'inline; name="credits"'],
          ],
          body: Buffer.from('98'),
        },
      ],
      'pact-mixed-boundary',
    );
    await pact
      .addInteraction()
      .given(STATE.hasCredits)
      .uponReceiving('an image to process with the cropped image')
      .withRequest('POST', PATH, imageRequest({ image, includeCroppedImage: true }, 'image/jpeg'))
      .willRespondWith(200, (builder) => {
        builder
          .headers({ 'Content-Type': regex('^multipart/mixed; ?boundary=.+$', mixed.contentType), 'Credits-Remaining': credits(98) })
          .body('application/octet-stream', mixed.body);
      })
      .executeTest(async (server) => {
        const answer = await client(server.url).process(image, { includeCroppedImage: true, filename: '001.jpg' });
        expect(await decode(answer.result)).toMatchObject({ width: 64, height: 48 });
        expect(await decode(answer.cropped!)).toMatchObject({ width: 32, height: 24 });
        expect(answer.creditsRemaining).toBe(98);
        await settle();
      });
  });

  const errors = [
    {
      status: 400,
      Type: BadRequestError,
      state: STATE.hasCredits,
      description: 'an empty image file',
      fields: () => ({ image: Buffer.alloc(0) }),
      imageType: null,
      headers: {},
    },
    {
      status: 401,
      Type: InvalidLicenseError,
      state: STATE.hasCredits,
      description: 'an image with a wrong API key',
      fields: () => ({ image, apiKey: 'wrong-key' }),
      imageType: 'image/jpeg',
      headers: {},
    },
    {
      status: 402,
      Type: NoCreditsError,
      state: STATE.noCredits,
      description: 'an image when no credits are left',
      fields: () => ({ image }),
      imageType: 'image/jpeg',
      headers: { 'Credits-Remaining': credits(0) },
    },
    {
      status: 403,
      Type: IpNotAllowedError,
      state: STATE.addressNotAllowed,
      description: 'an image from an address that is not allowed',
      fields: () => ({ image }),
      imageType: 'image/jpeg',
      headers: {},
    },
    {
      status: 415,
      Type: UnsupportedFileError,
      state: STATE.hasCredits,
      description: 'a file that is not an image',
      fields: () => ({ image: Buffer.from('this is a text file, not an image\n') }),
      imageType: 'text/plain',
      headers: { 'Credits-Remaining': credits(100) },
    },
    {
      status: 429,
      Type: TooManyRequestsError,
      state: STATE.busy,
      description: 'an image while two are already being processed',
      fields: () => ({ image }),
      imageType: 'image/jpeg',
      headers: { 'Credits-Remaining': credits(100), 'Retry-After': regex('^\\d+$', '1') },
    },
  ] as const;

  it.each(errors)(
    'answers $status for $description, which the client throws as $Type.name (D7)',
    async ({ status, Type, state, description, imageType, headers, ...rest }) => {
      const fields: Parameters<typeof formBody>[0] = rest.fields();
      await pact
        .addInteraction()
        .given(state)
        .uponReceiving(description)
        .withRequest('POST', PATH, imageRequest(fields, imageType))
        .willRespondWith(status, (builder) => {
          builder.headers(headers);
        })
        .executeTest(async (server) => {
          const error = await client(server.url, fields.apiKey ? { apiKey: fields.apiKey } : {})
            .process(fields.image, { filename: '001.jpg' })
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(Type);
          expect(error).toMatchObject({ status });
          if (status === 429) expect(error).toMatchObject({ retryAfterMs: 1000, creditsRemaining: 100 });
          if (status === 402) expect(error).toMatchObject({ creditsRemaining: 0 });
          await settle();
        });
    },
  );
});
