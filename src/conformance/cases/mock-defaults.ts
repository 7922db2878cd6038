import { HEADER, decodeMultipartMixed, parseCredits, readImageBundle } from '../../contract/index.js';
import { describeResponse, HOLD_MS, type CaseContext } from '../context.js';
import { decodeImage, pngBomb } from '../samples.js';
import type { ConformanceCase } from '../types.js';
import type { WireRequest, WireResponse } from '../wire.js';

const FREE = { credits: 0, needs: [] };

/** The error body's format: the JSON envelope, other JSON, text, or none (M9). */
export function errorBodyFormat(res: WireResponse): 'json-envelope' | 'json' | 'text' | 'none' {
  const text = res.body.toString('utf8').trim();
  if (text === '') return 'none';
  try {
    const json = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof json?.error?.code === 'string' ? 'json-envelope' : 'json';
  } catch {
    return 'text';
  }
}

/** Two failures at once: which status answers tells the order of the checks (M1). */
function precedence(
  id: string,
  title: string,
  pair: [string, string],
  expected: number,
  build: (ctx: CaseContext) => WireRequest,
  needs: ConformanceCase['tags']['needs'] = [],
): ConformanceCase {
  return {
    id,
    title,
    rule: 'M1',
    kind: 'mock-default',
    tags: { credits: 0, needs },
    async run(ctx) {
      const res = await ctx.send(build(ctx));
      ctx.observe(`order.${pair[0]}-vs-${pair[1]}`, res.status);
      return ctx.verdict(res.status === expected, `${expected}`, `${pair[0]} and ${pair[1]} wrong at once: ${describeResponse(res)}`);
    },
  };
}

/** The mock's own choices (CONTRACT.md M1 to M10): asserted against the mock, observed elsewhere. */
export const MOCK_DEFAULT_CASES: ConformanceCase[] = [
  precedence('M1-form-before-auth', 'a missing image and a wrong key: the 400 comes first', ['form', 'auth'], 400, (ctx) => {
    const req = ctx.vendor({ apiKey: 'wrong-key' });
    req.parts = req.parts!.filter((p) => p.name !== 'image');
    return req;
  }),
  precedence('M1-auth-before-image', 'a wrong key and a file that is not an image: the 401 comes first', ['auth', 'image'], 401, (ctx) =>
    ctx.vendor({ apiKey: 'wrong-key', image: ctx.samples.text }),
  ),
  precedence(
    'M1-auth-before-credits',
    'a wrong key on a license without credits: the 401 comes first',
    ['auth', 'credits'],
    401,
    (ctx) => ctx.vendor({ licenseId: ctx.target.zeroCreditLicense!.licenseId, apiKey: 'wrong-key' }),
    ['zero-credit-license'],
  ),
  precedence(
    'M1-allowlist-before-form',
    'an unlisted address and a body that is not a form: the 403 comes first, decided before the body',
    ['ip-allowlist', 'content-type'],
    403,
    (ctx) => ({
      headers: { [HEADER.licenseId]: ctx.target.credentials.licenseId, 'content-type': 'text/plain' },
      body: 'not a form',
      localAddress: ctx.target.unlistedSourceAddress!,
    }),
    ['unlisted-source-address'],
  ),
  precedence('M1-unknown-license', 'an unknown license from an allowed address: 401', ['license', 'allowlist'], 401, (ctx) =>
    ctx.vendor({ licenseId: `${ctx.target.credentials.licenseId}-unknown` }),
  ),
  {
    id: 'M1-truncated-image',
    title: 'a truncated JPEG (its header intact) does not fully decode: a 415, not a 200',
    rule: 'M1',
    kind: 'mock-default',
    // A lenient decoder fills the missing rows and answers 200, keeping every documented rule: a choice, observed.
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const res = await ctx.send(ctx.accepted({ image: ctx.samples.truncatedJpeg }));
      ctx.observe('decode.truncatedJpeg', res.status);
      return ctx.verdict(res.status === 415, '415', describeResponse(res));
    },
  },
  {
    id: 'M2-no-charge-for-415',
    title: 'a 415 spends no credit: its Credits-Remaining equals the last one seen before it',
    rule: 'M2',
    kind: 'mock-default',
    tags: { credits: 1, shares: ['png'], needs: [] },
    async run(ctx) {
      await ctx.paid('png');
      const before = ctx.lastCredits();
      const bad = await ctx.send(ctx.accepted({ image: ctx.samples.text }));
      const after = parseCredits(bad.headers[HEADER.creditsRemaining]);
      ctx.observe('charges.415', before === undefined || after === undefined ? 'unknown' : before - after);
      return ctx.verdict(
        before !== undefined && after === before,
        `Credits-Remaining ${before} on the 415`,
        `${after ?? '(absent)'} after ${before ?? '(absent)'}`,
      );
    },
  },
  {
    id: 'M3-credits-on-errors',
    title: 'Credits-Remaining on errors: on 415 once the license is known, not on 400 before it nor on 401',
    rule: 'M3',
    kind: 'mock-default',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const on415 = await ctx.send(ctx.accepted({ image: ctx.samples.text }));
      const on401 = await ctx.send(ctx.vendor({ apiKey: 'wrong-key' }));
      const missing = ctx.vendor();
      missing.parts = missing.parts!.filter((p) => p.name !== 'image');
      const on400 = await ctx.send(missing);
      const has = (res: WireResponse) => res.headers[HEADER.creditsRemaining] !== undefined;
      const seen = { 400: has(on400), 401: has(on401), 415: has(on415) };
      ctx.observe('creditsRemaining.onErrors', seen);
      return ctx.verdict(
        seen[415] && !seen[401] && !seen[400],
        'on 415 only',
        `present on ${
          Object.entries(seen)
            .filter(([, v]) => v)
            .map(([k]) => k)
            .join(', ') || 'none'
        }`,
      );
    },
  },
  {
    id: 'M4-strict-booleans',
    title: 'includeCroppedImage=maybe is a 400',
    rule: 'M4',
    kind: 'mock-default',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const res = await ctx.send(ctx.accepted({ extra: [{ name: 'includeCroppedImage', value: 'maybe' }] }));
      ctx.observe('booleans.maybe', res.status === 200 ? (/^multipart\//i.test(res.headers['content-type'] ?? '') ? 'true' : 'false') : res.status);
      return ctx.verdict(res.status === 400, '400', describeResponse(res));
    },
  },
  {
    id: 'M5-part-labels',
    title: 'multipart/mixed parts are named by Content-Disposition; credits is text/plain, the bare integer',
    rule: 'M5',
    kind: 'mock-default',
    tags: { credits: 0, shares: ['mixed'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('mixed');
      const type = res.headers['content-type'] ?? '';
      if (res.status !== 200 || !/^multipart\//i.test(type))
        return { status: ctx.isMock ? 'fail' : 'observed', message: `no multipart answer: ${describeResponse(res)}` };
      let parts;
      let bundle;
      try {
        parts = decodeMultipartMixed(res.body, type);
        bundle = readImageBundle(parts);
      } catch (error) {
        return ctx.verdict(false, 'a readable multipart/mixed answer', (error as Error).message);
      }
      const creditsPart = parts.find((p) => (p.name ?? p.contentId?.split('@')[0]) === 'credits') ?? parts.find((p) => !/^image\//i.test(p.contentType ?? ''));
      const creditsText = creditsPart ? Buffer.from(creditsPart.bytes).toString('utf8').trim() : undefined;
      const labels = {
        labelledBy: bundle.labelledBy,
        names: parts.map((p) => p.name ?? null),
        contentIds: parts.map((p) => p.contentId ?? null),
        contentTypes: parts.map((p) => p.contentType ?? null),
        creditsFormat: creditsText === undefined ? 'absent' : /^\d+$/.test(creditsText) ? 'text' : creditsText.startsWith('{') ? 'json' : 'other',
      };
      ctx.observe('parts', labels);
      const ok = labels.labelledBy === 'content-disposition' && labels.creditsFormat === 'text' && creditsPart?.contentType?.startsWith('text/plain') === true;
      return ctx.verdict(ok, 'parts named by Content-Disposition, credits as text/plain digits', JSON.stringify(labels));
    },
  },
  {
    id: 'M6-result-image',
    title: 'the result has the input size and is the same bytes for the same input',
    rule: 'M6',
    kind: 'mock-default',
    tags: { credits: 0, shares: ['png', 'mixed'], needs: [] },
    async run(ctx) {
      const png = await ctx.paid('png');
      const mixed = await ctx.paid('mixed');
      if (png.status !== 200 || mixed.status !== 200) return { status: 'skip', message: 'needs two 200 answers' };
      const decoded = await decodeImage(png.body);
      let same: boolean | 'unknown' = 'unknown';
      try {
        same = Buffer.from(readImageBundle(decodeMultipartMixed(mixed.body, mixed.headers['content-type'] ?? '')).result).equals(png.body);
      } catch {
        // an unreadable multipart answer is D5's to report
      }
      const size = decoded instanceof Error ? 'undecodable' : `${decoded.width}x${decoded.height}`;
      ctx.observe('result', { inputSize: `${ctx.samples.width}x${ctx.samples.height}`, resultSize: size, deterministic: same });
      // M6's exception: a mock replaying recordings answers a recorded upload with the live API's
      // images, whatever their size; they are still the same bytes each time.
      const health = (await ctx.target.admin?.health().catch(() => undefined)) as { recordings?: { mode?: string } } | undefined;
      if (health?.recordings?.mode === 'replay') {
        return ctx.verdict(
          same === true,
          'replay is on (the M6 exception): the same bytes twice, of whatever size was recorded',
          `${size}, same bytes: ${same}`,
        );
      }
      return ctx.verdict(
        size === `${ctx.samples.width}x${ctx.samples.height}` && same === true,
        `a ${ctx.samples.width}x${ctx.samples.height} result, the same bytes twice`,
        `${size}, same bytes: ${same}`,
      );
    },
  },
  {
    id: 'M7-concurrency-limit',
    title: 'at most 2 images in processing per license: the third at once is a 429 with Retry-After',
    rule: 'M7',
    kind: 'mock-default',
    tags: { credits: 3, needs: ['admin-api'], load: true },
    async run(ctx) {
      // Slow every request down so that they overlap, then send three at once.
      const hold = await ctx.arm({ type: 'latency', latencyMs: HOLD_MS, probability: 1, licenseId: ctx.target.credentials.licenseId });
      let answers: WireResponse[];
      try {
        answers = await Promise.all([1, 2, 3].map(() => ctx.send(ctx.accepted())));
      } finally {
        await hold.disarm();
      }
      const ok = answers.filter((a) => a.status === 200).length;
      const busy = answers.filter((a) => a.status === 429);
      ctx.observe('concurrency', { parallel: 3, succeeded: ok, refused429: busy.length, retryAfter: busy[0]?.headers[HEADER.retryAfter] ?? null });
      if (busy[0]) ctx.observe('creditsRemaining.on429', busy[0].headers[HEADER.creditsRemaining] !== undefined);
      return ctx.verdict(
        ok === 2 && busy.length === 1 && busy[0]!.headers[HEADER.retryAfter] !== undefined,
        '2 answered, 1 refused with 429 and Retry-After',
        `${ok} answered, ${busy.length} refused with 429`,
      );
    },
  },
  {
    id: 'M8-processing-time',
    title: "processing is quick by default (under 2 s on the mock); the target's time is recorded",
    rule: 'M8',
    kind: 'mock-default',
    tags: { credits: 0, shares: ['png'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('png');
      ctx.observe('latencyMs', res.durationMs);
      return ctx.verdict(res.durationMs < 2000, 'under 2000 ms', `${res.durationMs} ms`);
    },
  },
  {
    id: 'M9-error-body',
    title: 'error bodies are the JSON envelope {"error":{"code","message"}}',
    rule: 'M9',
    kind: 'mock-default',
    tags: FREE,
    async run(ctx) {
      const res = await ctx.send(ctx.vendor({ apiKey: 'wrong-key' }));
      const format = errorBodyFormat(res);
      ctx.observe('errorBody', format);
      return ctx.verdict(format === 'json-envelope', 'the JSON envelope', `${format}: ${res.body.toString('utf8').slice(0, 120)}`);
    },
  },
  {
    id: 'M10-pixel-limit',
    title: 'a decompression bomb (a PNG header claiming 100000x100000) is refused with a 415',
    rule: 'M10',
    kind: 'mock-default',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const res = await ctx.send(ctx.accepted({ image: pngBomb() }));
      ctx.observe('limits.pixelBomb', res.status);
      return ctx.verdict(res.status === 415, '415', describeResponse(res));
    },
  },
  {
    id: 'M10-upload-limit',
    title: 'an upload over 20 MiB is refused with a 413',
    rule: 'M10',
    kind: 'mock-default',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const big = Buffer.alloc(21 * 1024 * 1024, 0);
      ctx.samples.jpeg.copy(big);
      const res = await ctx.send(ctx.accepted({ image: big }));
      ctx.observe('limits.upload21MiB', res.status);
      return ctx.verdict(res.status === 413, '413', describeResponse(res));
    },
  },
];
