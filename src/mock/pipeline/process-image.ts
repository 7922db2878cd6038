import { PART, encodeMultipartMixedChunks, type MixedPart } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import { ApiError } from '../http/api-error.js';
import type { RenderedImages } from '../images/render.js';
import { ANSWER_LOSING_FAULTS, type FiredFault, type Settlement, type Ticket } from '../store/index.js';
import { waitOrAbort } from './abort.js';
import type { RequestState } from './request-state.js';

/** A 200 ready to send. */
export interface ImageReply {
  headers: Record<string, string>;
  /** The body as pieces to write in order, the PNGs among them uncopied; {@link replyBody} joins them. */
  chunks: readonly Uint8Array[];
  /** Bytes of all the chunks: the `Content-Length`. */
  length: number;
  creditsRemaining: number;
}

/** The reply's body in one buffer, for a transport that cannot write pieces (`app.request()`, a truncated answer). */
export function replyBody(reply: ImageReply): Buffer {
  return Buffer.concat(reply.chunks, reply.length);
}

/** What processing produced: a reply to send, or a reply to spoil with a transport fault. */
export type ProcessOutcome = { kind: 'reply'; reply: ImageReply } | { kind: 'transport-fault'; fault: FiredFault; reply: ImageReply; charged: boolean };

/**
 * The last stage, once every check passed and a slot is held: simulated processing time,
 * armed faults, the cropped image, and the credit spent just before the answer (M2).
 * A transport fault (reset, truncate, hang) spends nothing, unless armed with `phase: "after"`:
 * then the credit is spent first. The HTTP layer carries it out. `requestFault` is one the
 * request asked for itself (`X-Beia-Mock-Scenario: reset; phase=after`).
 */
export async function processImage(state: RequestState, random: () => number, requestFault?: FiredFault): Promise<ProcessOutcome> {
  const { config, store, facts } = state;
  const ticket = state.ticket;
  const rendered = state.rendered;
  if (!ticket || !rendered)
    throw new ApiError('internal_error', 'The mock reached processing without a slot or an image; this is a bug in beia-kit, please report it.');

  // A fault the scenario header asks for is this request's; the armed ones wait for the next.
  // The admission said whether any fault is armed: none, and the store is not asked (a round trip with Redis).
  const fault = requestFault ?? (state.faultsArmed ? await store.takeFault(ticket.licenseId) : undefined);
  state.fault = fault;
  const latency = fault?.type === 'latency' ? (fault.latencyMs ?? 0) : 0;
  await waitOrAbort(processingDelayMs(config.processing, rendered.inputPixels, random) + latency, facts.signal);
  if (fault?.type === 'error') {
    throw new ApiError('internal_error', `Injected fault ${fault.id}: the mock answers 500 as armed through POST /__admin/faults. No credit was spent; retry.`);
  }

  // The reading the checks made, so the cropped image was cut when it is asked for.
  const includeCropped = await state.includeCroppedImage();
  const cropped = includeCropped ? rendered.cropped : undefined;
  if (includeCropped && !cropped) {
    throw new ApiError(
      'internal_error',
      'The mock rendered the image without the cropped image that was asked for; this is a bug in beia-kit, please report it.',
    );
  }

  if (fault && ANSWER_LOSING_FAULTS.has(fault.type)) {
    if (fault.phase === 'after') {
      // Charged, then the answer is lost: what a client must not pay for twice.
      const settlement = await spend(state, ticket);
      return { kind: 'transport-fault', fault, reply: buildReply(config, rendered, cropped, settlement.credits), charged: true };
    }
    const license = await store.getLicense(ticket.licenseId);
    return { kind: 'transport-fault', fault, reply: buildReply(config, rendered, cropped, license?.credits ?? 0), charged: false };
  }

  const settlement = await spend(state, ticket);
  return { kind: 'reply', reply: buildReply(config, rendered, cropped, settlement.credits) };
}

/** Spends the ticket's credit and frees its slot (once per ticket: the route's release afterwards has nothing left to do). */
async function spend(state: RequestState, ticket: Ticket): Promise<Settlement> {
  const settlement = await state.store.settle(ticket, true);
  state.ticket = undefined;
  if (!settlement.spent) {
    throw new ApiError('no_credits', `License ${ticket.licenseId} ran out of credits while the image was processed. Add credits and retry.`);
  }
  return settlement;
}

/** Fixed time, plus time per megapixel, plus up to `jitterMs` at random (M8). */
export function processingDelayMs(processing: MockConfig['processing'], pixels: number, random: () => number): number {
  return Math.round(processing.delayMs + (processing.msPerMegapixel * pixels) / 1_000_000 + random() * processing.jitterMs);
}

function buildReply(config: MockConfig, rendered: RenderedImages, cropped: Buffer | undefined, credits: number): ImageReply {
  const { result } = rendered;
  const creditsHeader = { 'Credits-Remaining': String(credits) };
  if (!cropped) {
    return { headers: { 'Content-Type': 'image/png', ...creditsHeader }, chunks: [result], length: result.length, creditsRemaining: credits };
  }
  const { partLabels, creditsPartFormat } = config.rules;
  const part = (name: string, contentType: string, body: Buffer, filename?: string): MixedPart => {
    const headers: [string, string][] = [['Content-Type', contentType]];
    if (partLabels !== 'content-id') {
      headers.push(['Content-Disposition', `inline; name="${name}"${filename ? `; filename="${filename}"` : ''}`]);
    }
    if (partLabels !== 'content-disposition') headers.push(['Content-ID', `<${name}>`]);
    return { headers, body };
  };
  const creditsBody = creditsPartFormat === 'json' ? JSON.stringify({ credits }) : String(credits);
  const encoded = encodeMultipartMixedChunks(
    [
      part(PART.result, 'image/png', result, 'result.png'),
      part(PART.cropped, 'image/png', cropped, 'cropped.png'),
      part(PART.credits, creditsPartFormat === 'json' ? 'application/json' : 'text/plain', Buffer.from(creditsBody)),
    ],
    rendered.boundary,
  ); // checked against both PNGs; the credits part is digits, or JSON of digits
  return { headers: { 'Content-Type': encoded.contentType, ...creditsHeader }, chunks: encoded.chunks, length: encoded.length, creditsRemaining: credits };
}
