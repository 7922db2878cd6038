import { HEADER } from '../../contract/index.js';
import { describeResponse } from '../context.js';
import type { ConformanceCase } from '../types.js';

/**
 * What only the live API can tell (CONTRACT.md, "Unknown"): observed and recorded, never failed.
 * The other unknowns are recorded by the M cases, which observe on any target.
 */
export const UNKNOWN_CASES: ConformanceCase[] = [
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
