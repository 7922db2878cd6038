import { HEADER } from '../../contract/index.js';
import { describeResponse, HOLD_MS } from '../context.js';
import type { ConformanceCase } from '../types.js';

/**
 * What only the live API can tell (CONTRACT.md, "Unknown"): observed and recorded, never failed.
 * The other unknowns are recorded by the M cases, which observe on any target.
 */
/** How many times each value occurs, keys in order: the same for the same answers in any order. */
export function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of [...values].sort()) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export const UNKNOWN_CASES: ConformanceCase[] = [
  {
    id: 'U-concurrency-burst',
    title: 'four images at once: how many are answered, how many refused with 429 (and its Retry-After)',
    rule: 'D7?',
    kind: 'unknown',
    tags: { credits: 4, needs: [], load: true },
    async run(ctx) {
      // Where the suite controls the target, each image holds its slot a known while (an armed
      // latency), so the burst's outcome is the limit, not the machine's speed. Elsewhere it is a
      // race, and its counts are compared as timing (`heldMs: null`).
      const hold = ctx.target.admin
        ? await ctx.arm({ type: 'latency', latencyMs: HOLD_MS, probability: 1, licenseId: ctx.target.credentials.licenseId })
        : undefined;
      let answers;
      try {
        answers = await Promise.all([1, 2, 3, 4].map(() => ctx.send(ctx.accepted())));
      } finally {
        await hold?.disarm();
      }
      const succeeded = answers.filter((a) => a.status === 200).length;
      const busy = answers.filter((a) => a.status === 429);
      const seen = {
        parallel: 4,
        succeeded,
        refused429: busy.length,
        retryAfter: busy[0]?.headers[HEADER.retryAfter] ?? null,
        // Counted, not listed: the order parallel answers come back in is not behaviour.
        statuses: countBy(answers.map((a) => String(a.status))),
        heldMs: hold ? HOLD_MS : null,
      };
      ctx.observe('concurrency.burst', seen);
      if (busy[0]) ctx.observe('creditsRemaining.on429', busy[0].headers[HEADER.creditsRemaining] !== undefined);
      return ctx.verdict(
        true,
        '',
        `${succeeded} answered, ${busy.length} refused with 429${busy.length ? ` (Retry-After ${seen.retryAfter ?? 'absent'})` : ''}`,
      );
    },
  },
  {
    id: 'U-license-header-optional',
    title: 'is a request without the License-Id header refused? (the table says required, the Python sample "recommended")',
    rule: 'D3?',
    kind: 'unknown',
    tags: { credits: 1, needs: [] },
    async run(ctx) {
      const req = ctx.vendor();
      req.headers = { ...req.headers, [HEADER.licenseId]: undefined };
      const res = await ctx.send(req);
      ctx.observe('licenseHeader.missing', res.status);
      return ctx.verdict(true, '', `without License-Id: ${describeResponse(res)}`);
    },
  },
];
