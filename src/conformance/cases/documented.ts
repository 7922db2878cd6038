import { decodeMultipartMixed, readImageBundle, HEADER, parseCredits } from '../../contract/index.js';
import { describeResponse, type CaseContext } from '../context.js';
import { decodeImage } from '../samples.js';
import type { CaseResult, ConformanceCase } from '../types.js';
import type { WireRequest, WireResponse } from '../wire.js';

const FREE = { credits: 0, needs: [] };

/** A 4xx the rule expects, from a request that should not be charged. */
function expectStatus(ctx: CaseContext, status: number, res: { status: number }, described: string): CaseResult {
  return ctx.verdict(res.status === status, `${status}`, described);
}

/**
 * A request missing or contradicting a parameter (D2, D3, D7): the page says 400. Another 4xx is
 * still a refusal, only decided by another check first (a gateway that looks the license up, a
 * key checked before the fields): the order of checks is the target's choice, so it is observed.
 * An answer that is not a refusal breaks the rule.
 */
function expectRefusal(ctx: CaseContext, res: WireResponse): CaseResult {
  const described = describeResponse(res);
  if (res.status === 400) return ctx.verdict(true, '400', described);
  if (res.status > 400 && res.status < 500) return ctx.observed(`refused with ${res.status} rather than 400 (another check answered first): ${described}`);
  return ctx.verdict(false, '400', described);
}

/** What {@link expectRefusal} accepts, in the words of the cases' titles. */
const REFUSED = 'refused: a 400, or another 4xx when another check answers first (observed)';

/** The documented rules (CONTRACT.md D1 to D9): asserted strictly against any target. */
export const DOCUMENTED_CASES: ConformanceCase[] = [
  {
    id: 'D1-post-multipart',
    title: 'POST of a multipart/form-data body to /beia-api/v1/image is answered 200',
    rule: 'D1',
    kind: 'documented',
    tags: { credits: 0, shares: ['png'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('png');
      return ctx.verdict(res.status === 200, '200', describeResponse(res));
    },
  },
  {
    id: 'D2-missing-license-id',
    title: `a form without licenseId is ${REFUSED}, or accepted from the License-Id header alone (recorded as licenseId.headerOnly)`,
    rule: 'D2',
    kind: 'documented',
    // The page lists licenseId under "Header / Form": a target may take it from the header alone and charge.
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const req = ctx.vendor();
      req.parts = req.parts!.filter((p) => p.name !== 'licenseId');
      const res = await ctx.send(req);
      ctx.observe('licenseId.headerOnly', res.status);
      if (res.status === 200) return ctx.observed(`accepted with the License-Id header alone: ${describeResponse(res)}`);
      return expectRefusal(ctx, res);
    },
  },
  {
    id: 'D2-missing-api-key',
    title: `a form without apiKey is ${REFUSED}; the status chosen is recorded (apiKey.missing)`,
    rule: 'D2',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const req = ctx.vendor();
      req.parts = req.parts!.filter((p) => p.name !== 'apiKey');
      const res = await ctx.send(req);
      // A 400 (a field missing) and a 401 (no key, no license) are both fair readings: which one the target chose is its choice.
      ctx.observe('apiKey.missing', res.status);
      return expectRefusal(ctx, res);
    },
  },
  {
    id: 'D2-missing-image',
    title: `a form without image is ${REFUSED}`,
    rule: 'D2',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const req = ctx.vendor();
      req.parts = req.parts!.filter((p) => p.name !== 'image');
      const res = await ctx.send(req);
      return expectRefusal(ctx, res);
    },
  },
  ...(['licenseId', 'apiKey', 'image'] as const).map((name): ConformanceCase => ({
    id: `D2-empty-${name === 'licenseId' ? 'license-id' : name === 'apiKey' ? 'api-key' : 'image'}`,
    title: `a form whose ${name} is present but empty is ${REFUSED}`,
    rule: 'D2',
    kind: 'documented',
    // An empty licenseId may be taken from the header by a lenient target, which then charges.
    tags: name === 'licenseId' ? { credits: 1, needs: [] } : FREE,
    async run(ctx) {
      const req = ctx.vendor();
      req.parts = req.parts!.map((part) => (part.name !== name ? part : 'value' in part ? { ...part, value: '' } : { ...part, data: new Uint8Array(0) }));
      const res = await ctx.send(req);
      if (name === 'licenseId' && res.status === 200) return ctx.observed(`accepted with the License-Id header alone: ${describeResponse(res)}`);
      return expectRefusal(ctx, res);
    },
  })),
  {
    id: 'D2-cropped-default-false',
    title: 'without includeCroppedImage the answer is a single PNG (default false)',
    rule: 'D2',
    kind: 'documented',
    tags: { credits: 0, shares: ['png'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('png');
      const type = res.headers['content-type'] ?? '';
      return ctx.verdict(res.status === 200 && !/^multipart\//i.test(type), 'a 200 that is not multipart', describeResponse(res));
    },
  },
  {
    id: 'D3-license-header-mismatch',
    title: `a License-Id header that differs from the form is ${REFUSED}`,
    rule: 'D3',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const req = ctx.vendor();
      req.headers = { ...req.headers, [HEADER.licenseId]: `${ctx.target.credentials.licenseId}-other` };
      const res = await ctx.send(req);
      return expectRefusal(ctx, res);
    },
  },
  {
    id: 'D4-png-answer',
    title: 'the answer is one PNG, Content-Type image/png, that decodes in full',
    rule: 'D4',
    kind: 'documented',
    tags: { credits: 0, shares: ['png'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('png');
      if (res.status !== 200) return ctx.verdict(false, 'a 200', describeResponse(res));
      const type = res.headers['content-type'] ?? '';
      if (!/^image\/png\b/i.test(type)) return ctx.verdict(false, 'Content-Type image/png', `Content-Type ${type || '(none)'}`);
      const decoded = await decodeImage(res.body);
      if (decoded instanceof Error)
        return ctx.verdict(false, 'a PNG that decodes in full', `${res.body.length} bytes that do not decode: ${decoded.message.split('\n')[0]}`);
      return ctx.verdict(decoded.format === 'png', 'a PNG', `a ${decoded.format} of ${decoded.width}x${decoded.height}`);
    },
  },
  {
    id: 'D5-mixed-answer',
    title: 'with includeCroppedImage=true the answer is multipart/mixed with a result and a cropped PNG',
    rule: 'D5',
    kind: 'documented',
    tags: { credits: 0, shares: ['mixed'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('mixed');
      if (res.status !== 200) return ctx.verdict(false, 'a 200', describeResponse(res));
      const type = res.headers['content-type'] ?? '';
      if (!/^multipart\/mixed\s*;.*boundary=/i.test(type))
        return ctx.verdict(false, 'Content-Type multipart/mixed; boundary=...', `Content-Type ${type || '(none)'}`);
      let parts;
      let bundle;
      try {
        parts = decodeMultipartMixed(res.body, type);
        bundle = readImageBundle(parts);
      } catch (error) {
        return ctx.verdict(false, 'parts result and cropped', (error as Error).message);
      }
      if (!bundle.cropped) return ctx.verdict(false, 'a cropped part', 'only a result part');
      // A part that names another image type than the PNG it holds states one fact two ways.
      for (const part of parts) {
        const label = part.name ?? part.contentId;
        if ((label === 'result' || label === 'cropped') && part.contentType && /^image\//i.test(part.contentType) && !/^image\/png\b/i.test(part.contentType)) {
          return ctx.verdict(false, `the ${label} part typed image/png (or generically), as the PNG it holds`, `Content-Type ${part.contentType}`);
        }
      }
      for (const [name, bytes] of [
        ['result', bundle.result],
        ['cropped', bundle.cropped],
      ] as const) {
        const decoded = await decodeImage(bytes);
        if (decoded instanceof Error || decoded.format !== 'png') {
          return ctx.verdict(false, `the ${name} part a PNG that decodes`, decoded instanceof Error ? decoded.message.split('\n')[0]! : decoded.format);
        }
      }
      return ctx.verdict(true, '', `result and cropped PNGs, parts found by ${bundle.labelledBy}, credits part ${bundle.credits ?? '(none)'}`);
    },
  },
  {
    id: 'D5-credits-part-matches-header',
    title: 'the multipart/mixed answer states the credits twice, and both agree: its credits part and Credits-Remaining',
    rule: 'D5, D6',
    kind: 'documented',
    tags: { credits: 0, shares: ['mixed'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('mixed');
      const type = res.headers['content-type'] ?? '';
      if (res.status !== 200 || !/^multipart\/mixed/i.test(type))
        return { status: 'skip', message: `needs a multipart/mixed 200 (D5 says why): ${describeResponse(res)}` };
      let credits: number | undefined;
      try {
        credits = readImageBundle(decodeMultipartMixed(res.body, type)).credits;
      } catch (error) {
        return { status: 'skip', message: `the answer does not parse (D5 says why): ${(error as Error).message}` };
      }
      const header = parseCredits(res.headers[HEADER.creditsRemaining]);
      if (credits === undefined) return ctx.verdict(false, 'a credits part with the remaining credits', 'no readable credits part');
      if (header === undefined) return { status: 'skip', message: 'no Credits-Remaining header to compare with (D6 says why)' };
      return ctx.verdict(credits === header, `the credits part equal to Credits-Remaining: ${header}`, `credits part ${credits}, header ${header}`);
    },
  },
  {
    id: 'D6-credits-remaining-on-200',
    title: 'a 200 carries Credits-Remaining, a whole number',
    rule: 'D6',
    kind: 'documented',
    tags: { credits: 0, shares: ['png'], needs: [] },
    async run(ctx) {
      const res = await ctx.paid('png');
      const credits = parseCredits(res.headers[HEADER.creditsRemaining]);
      return ctx.verdict(res.status === 200 && credits !== undefined, 'Credits-Remaining: <whole number>', describeResponse(res, ['Credits-Remaining']));
    },
  },
  {
    id: 'D6-credits-decrease',
    title: 'Credits-Remaining is the credits left after the request: lower after each 200',
    rule: 'D6',
    kind: 'documented',
    tags: { credits: 0, shares: ['png', 'mixed'], needs: [] },
    async run(ctx) {
      await ctx.paid('png');
      await ctx.paid('mixed');
      // In the order they were sent; how much each image costs is not documented, only that it costs.
      const [earlier, later] = await Promise.all(ctx.run.paidOrder.map((kind) => ctx.paid(kind)));
      if (earlier!.status !== 200 || later!.status !== 200) return { status: 'skip', message: 'needs two 200 answers' };
      const a = parseCredits(earlier!.headers[HEADER.creditsRemaining]);
      const b = parseCredits(later!.headers[HEADER.creditsRemaining]);
      // What one image costs is not on the page: observed (1 on the mock; nothing else ran meanwhile on a license of its own).
      if (a !== undefined && b !== undefined) ctx.observe('credits.step', a - b);
      return ctx.verdict(
        a !== undefined && b !== undefined && b < a,
        `a value below ${a ?? 'the first'} after the second image`,
        `${a ?? '(absent)'} then ${b ?? '(absent)'}`,
      );
    },
  },
  {
    id: 'D7-401-wrong-key',
    title: 'a wrong apiKey is a 401',
    rule: 'D7',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const res = await ctx.send(ctx.vendor({ apiKey: `${ctx.target.credentials.apiKey}-wrong` }));
      return expectStatus(ctx, 401, res, describeResponse(res));
    },
  },
  {
    id: 'D7-401-unknown-license',
    title: 'a license id that does not exist is refused: 401 (invalid license) or 403 (not authorised); the page allows both readings',
    rule: 'D7',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const res = await ctx.send(ctx.vendor({ licenseId: 'conformance-no-such-license', apiKey: 'conformance-no-such-key' }));
      ctx.observe('license.unknown', res.status);
      return ctx.verdict(res.status === 401 || res.status === 403, '401 or 403', describeResponse(res));
    },
  },
  {
    id: 'D7-400-wrong-content-type',
    title: 'a body that is not multipart/form-data is refused: 400 (invalid parameters) or 415 (the page allows both readings)',
    rule: 'D1, D7',
    kind: 'documented',
    tags: FREE,
    async run(ctx) {
      const { licenseId, apiKey } = ctx.target.credentials;
      const res = await ctx.send({
        headers: { [HEADER.licenseId]: licenseId, 'content-type': 'application/json' },
        body: JSON.stringify({ licenseId, apiKey, image: 'not a file' }),
      });
      ctx.observe('contentType.json', res.status);
      if (res.status === 400 || res.status === 415) return ctx.verdict(true, '', describeResponse(res));
      if (res.status > 400 && res.status < 500) return ctx.observed(`refused with ${res.status} (another check answered first): ${describeResponse(res)}`);
      return ctx.verdict(false, '400 or 415', describeResponse(res));
    },
  },
  {
    id: 'D7-402-no-credits',
    title: 'a license without credits is a 402',
    rule: 'D7',
    kind: 'documented',
    tags: { credits: 0, needs: ['zero-credit-license'] },
    async run(ctx) {
      const { licenseId, apiKey } = ctx.target.zeroCreditLicense!;
      // Its credentials are the caller's too: a 401 or 403 says they are wrong, not that the target is.
      const res = await ctx.send({ ...ctx.vendor({ licenseId, apiKey }), accepts: 'zero-credit-license' });
      if (res.status === 402) ctx.observe('creditsRemaining.on402', res.headers[HEADER.creditsRemaining] !== undefined);
      return expectStatus(ctx, 402, res, describeResponse(res, ['Credits-Remaining']));
    },
  },
  {
    id: 'D8-403-unlisted-address',
    title: 'a request from an address not on the allowlist is a 403',
    rule: 'D7, D8',
    kind: 'documented',
    tags: { credits: 0, needs: ['unlisted-source-address'] },
    async run(ctx) {
      const res = await ctx.send(ctx.vendor({ localAddress: ctx.target.unlistedSourceAddress! }));
      return expectStatus(ctx, 403, res, describeResponse(res));
    },
  },
  {
    id: 'D7-415-not-an-image',
    title: 'a file that is not an image is a 415',
    rule: 'D7',
    kind: 'documented',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const res = await ctx.send(ctx.accepted({ image: ctx.samples.text }));
      return expectStatus(ctx, 415, res, describeResponse(res));
    },
  },
  {
    id: 'D7-500-internal-error',
    title: 'an internal error is a 500 (a fault armed through the admin API)',
    rule: 'D7',
    kind: 'documented',
    tags: { credits: 0, needs: ['admin-api'] },
    async run(ctx) {
      const fault = await ctx.arm({ type: 'error', count: 1, licenseId: ctx.target.credentials.licenseId });
      try {
        const res = await ctx.send(ctx.accepted());
        if (res.status === 500) ctx.observe('creditsRemaining.on500', res.headers[HEADER.creditsRemaining] !== undefined);
        return expectStatus(ctx, 500, res, describeResponse(res));
      } finally {
        await fault.disarm();
      }
    },
  },
  {
    id: 'D9-python-node-samples',
    title: "the vendor's Python (requests) and Node (axios + form-data) sample requests are answered with a PNG",
    rule: 'D9',
    kind: 'documented',
    tags: { credits: 2, needs: [] },
    async run(ctx) {
      const { licenseId, apiKey } = ctx.target.credentials;
      const answers: string[] = [];
      for (const [name, request] of [
        ['Python', pythonRequest(licenseId, apiKey, ctx.samples.jpeg)],
        ['Node', nodeRequest(licenseId, apiKey, ctx.samples.jpeg)],
      ] as const) {
        const res = await ctx.send({ ...request, accepts: 'run' });
        const type = res.headers['content-type'] ?? '';
        if (res.status !== 200 || !/^image\/png\b/i.test(type)) return ctx.verdict(false, `a 200 with a PNG to the ${name} sample`, describeResponse(res));
        answers.push(`${name}: ${describeResponse(res)}`);
      }
      return ctx.verdict(true, '', answers.join('; '));
    },
  },
  {
    id: 'D9-vendor-sample-request',
    title: "the vendor's C# sample request (quoted boundary, text/plain fields, an image part without a type named ./001.jpg) is accepted",
    rule: 'D9',
    kind: 'documented',
    // The curl shape is the shared PNG request (D1); the C# one differs the most from it.
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const res = await ctx.send({ ...csharpRequest(ctx.target.credentials.licenseId, ctx.target.credentials.apiKey, ctx.samples.jpeg), accepts: 'run' });
      return ctx.verdict(res.status === 200, '200', describeResponse(res));
    },
  },
];

/** What Python's requests sends for the vendor's sample (D9): text parts without a filename, the file named by its path, octet-stream. */
function pythonRequest(licenseId: string, apiKey: string, image: Uint8Array): WireRequest {
  const boundary = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const text = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(text('apiKey', apiKey) + text('licenseId', licenseId)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="./001.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.from(image),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { headers: { [HEADER.licenseId]: licenseId, 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
}

/** What the form-data package sends for the vendor's Node sample (D9): its dashed boundary, the file typed from its name. */
function nodeRequest(licenseId: string, apiKey: string, image: Uint8Array): WireRequest {
  const boundary = '--------------------------123456789012345678901234';
  const text = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(text('apiKey', apiKey) + text('licenseId', licenseId)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="001.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    Buffer.from(image),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { headers: { [HEADER.licenseId]: licenseId, 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
}

/** What .NET's MultipartFormDataContent sends for the vendor's C# sample (D9): tokens unquoted, a filename with "/" quoted. */
function csharpRequest(licenseId: string, apiKey: string, image: Uint8Array): WireRequest {
  const boundary = 'a1b2c3d4-0000-4000-8000-csharpsample';
  const text = (name: string, value: string) =>
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: form-data; name=${name}\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(text('apiKey', apiKey) + text('licenseId', licenseId)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=image; filename="./001.jpg"; filename*=utf-8''.%2F001.jpg\r\n\r\n`),
    Buffer.from(image),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { headers: { [HEADER.licenseId]: licenseId, 'content-type': `multipart/form-data; boundary="${boundary}"` }, body };
}
