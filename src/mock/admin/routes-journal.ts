import type { Hono } from 'hono';
import { adminError, readJson, readPage, type AdminDeps } from './common.js';
import { readVerifyRequest, verifyJournal } from './verify.js';

/** `/journal` (a page of it, newest last; or the requests that came before their Retry-After), and `/verify`. */
export function journalRoutes(admin: Hono, deps: Pick<AdminDeps, 'store' | 'config'>): void {
  const { store } = deps;

  admin.get('/journal', async (c) => {
    const page = readPage(c);
    if (page instanceof Response) return page;
    const licenseId = c.req.query('licenseId');
    const tooEarly = c.req.query('retryTooEarly');
    if (tooEarly !== undefined && tooEarly !== 'true') {
      return adminError(
        c,
        'admin_invalid_request',
        `retryTooEarly is "${tooEarly.slice(0, 20)}"; expected true (?retryTooEarly=true lists the requests that came before their Retry-After).`,
      );
    }
    const filter: { licenseId?: string; limit?: number } = {};
    if (licenseId !== undefined) filter.licenseId = licenseId;
    if (tooEarly === undefined) filter.limit = page.limit + page.offset;
    let entries = await store.listJournal(filter);
    if (tooEarly !== undefined) entries = entries.filter((entry) => entry.retryTooEarly === true);
    // Oldest first, as the journal keeps them; the offset skips the newest, so pages go back in time.
    const end = Math.max(0, entries.length - page.offset);
    return c.json(entries.slice(Math.max(0, end - page.limit), end));
  });

  admin.delete('/journal', async (c) => {
    await store.clearJournal();
    return c.json({ cleared: true });
  });

  // Did the client make the calls it should? Counts journal entries that match a pattern.
  admin.post('/verify', async (c) => {
    const request = await readJson(c, readVerifyRequest);
    if (request instanceof Response) return request;
    const { pattern, count } = request;
    // With a license, only its entries: parallel tests with licenses of their own verify apart.
    const entries = await store.listJournal(pattern.licenseId === undefined ? {} : { licenseId: pattern.licenseId });
    return c.json(verifyJournal(entries, pattern, count, deps.config.rules));
  });
}
