import { Hono, type Context, type Env, type Input } from 'hono';
import type { ErrorCode } from '../../contract/index.js';
import { ERROR_CATALOGUE, openApiDocument } from '../../contract/index.js';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { bodyLimit } from 'hono/body-limit';
import type { MockBindings } from '../http/transport.js';
import { ipMatcher, normaliseIp } from '../net/ip.js';
import { ConfigError, DEFAULT_LICENSE, readLicensePatch, type MockConfig } from '../config/index.js';
import { readInt, readObject, readString } from '../config/reader.js';
import { secretsEqual } from '../../shared/index.js';
import type { UploadBudget } from '../form/upload-budget.js';
import type { ImageRenderer } from '../images/renderer.js';
import type { MockMetrics } from '../metrics.js';
import { readVerifyRequest, verifyJournal } from './verify.js';
import { dashboardAssets, dashboardData } from './dashboard.js';
import type { ImageGallery } from '../images/gallery.js';
import { MOCK_VERSION } from '../version.js';
import type { LicenseState, MockStore } from '../store/index.js';
import { readFaultSpec } from '../faults/index.js';

export interface AdminDeps {
  config: MockConfig;
  store: MockStore;
  version: string;
  /** When set, every admin call but health needs it as `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** The allowlist of a license PUT without one, as for a config's license (`defaultAllowedIps`). */
  defaultAllowedIps: readonly string[];
  /** The uploads held in memory, which health reports. */
  uploads: UploadBudget;
  /** The image work, whose result cache health reports. */
  renderer: ImageRenderer;
  /** What `GET /metrics` serves. */
  metrics: MockMetrics;
  /** The images of the newest requests, which the dashboard shows. */
  gallery: ImageGallery;
  /** When the mock started (`Date.now()`), for its uptime. */
  startedAt: number;
  /** Whether the mock records the live API or replays recordings of it, which health reports (a conformance run reads it for M6). */
  recordings?: { mode: 'record' } | { mode: 'replay'; strict: boolean };
}

/**
 * The admin API under `/__admin` (docs/admin-api.md): licenses, reset, journal and faults,
 * all JSON. API keys never leave the mock: licenses show `apiKey: "***"`.
 */
export function adminRoutes(deps: AdminDeps): Hono {
  const { store, config } = deps;
  const admin = new Hono();

  async function health() {
    const { uploads, bytes } = deps.uploads.held;
    // Health answers even when the store does not: it says so instead of failing.
    const degraded = store.health?.() === 'degraded';
    const reason = degraded ? store.healthReason?.() : undefined;
    const counters = store.counters?.();
    return {
      status: degraded ? 'degraded' : 'ok',
      version: deps.version,
      node: process.version,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      store: {
        kind: store.kind ?? 'custom',
        status: degraded ? 'degraded' : 'ok',
        ...(reason === undefined ? {} : { reason }),
        ...(counters ? { journalPending: counters.journalPending, journalDropped: counters.journalDropped, stateLost: counters.stateLost } : {}),
      },
      inFlight: degraded ? null : await store.inFlight().catch(() => null),
      uploads: { receiving: uploads, bufferedBytes: bytes },
      cache: deps.renderer.cacheStats(),
      ...(deps.recordings ? { recordings: deps.recordings } : {}),
    };
  }

  admin.get('/health', async (c) => c.json(await health()));

  // The contract as OpenAPI 3.1 (src/contract/openapi.ts): no secret in it, so no token, for Postman or a generator.
  const openApi = openApiDocument(MOCK_VERSION);
  admin.get('/openapi.json', (c) => c.json(openApi));

  // Without a token, only loopback and the allowed names, before anything else: a web page that
  // rebinds its own name to 127.0.0.1 sends that name in Host (docs/security.md).
  const allowedHosts = new Set(config.admin.allowedHosts);
  admin.use('*', async function refuseOtherHosts(c: Context<{ Bindings: MockBindings }>, next) {
    // In-process calls (mockDispatcher(), app.request()) have no socket: no browser sent them.
    if (deps.adminToken !== undefined || c.env?.incoming === undefined) return next();
    const host = c.req.header('host') ?? '';
    const origin = c.req.header('origin');
    const refused = !adminHostAllowed(hostName(host), allowedHosts)
      ? `Host ${JSON.stringify(host.slice(0, 100))}`
      : origin !== undefined && !adminHostAllowed(hostName(originHost(origin) ?? ''), allowedHosts)
        ? `Origin ${JSON.stringify(origin.slice(0, 100))}`
        : undefined;
    if (refused === undefined) return next();
    return adminError(
      c,
      'admin_host_not_allowed',
      `The admin API has no token, so it answers only requests to loopback (localhost, 127.0.0.1, [::1]) or to a name in admin.allowedHosts; this one came with ${refused}. Call it at http://127.0.0.1:<port>/__admin, add the name to admin.allowedHosts in the config, or start the mock with --admin-token.`,
    );
  });

  // The dashboard's page, script and style hold no data: no token, so the page can ask for it.
  dashboardAssets(admin);

  // Every admin body is small JSON: refuse a larger one while it arrives, never hold it whole.
  admin.use(
    '*',
    bodyLimit({
      maxSize: config.admin.maxBodyBytes,
      onError: (c) => {
        c.header('Connection', 'close');
        return adminError(
          c,
          'admin_payload_too_large',
          `The admin request body is over admin.maxBodyBytes (${config.admin.maxBodyBytes} bytes). Admin bodies are small JSON objects; send less, or raise admin.maxBodyBytes in the config.`,
        );
      },
    }),
  );

  admin.use('*', async function refuseOtherOrigins(c, next) {
    // A web page can POST to a loopback admin API without a preflight; browsers name the page in
    // Origin. Tools (curl, tests, CI) send no Origin, or the mock's own.
    const origin = c.req.header('origin');
    // The host decides, not the scheme: behind a TLS proxy the page is https and the mock sees http.
    if (origin !== undefined && originHost(origin) !== new URL(c.req.url).host) {
      return adminError(
        c,
        'admin_cross_origin',
        `The admin API does not take requests from web pages (Origin ${origin}). Call it from a tool or a test, not a browser.`,
      );
    }
    return next();
  });

  admin.use('*', async function requireAdminToken(c, next) {
    if (deps.adminToken === undefined) return next();
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? c.req.header('x-beia-admin-token') ?? '';
    if (!secretsEqual(given.trim(), deps.adminToken)) {
      return adminError(
        c,
        'admin_unauthorized',
        'The admin API needs a token: the one given to --admin-token (BEIA_MOCK_ADMIN_TOKEN), or the one the mock made and printed at start. Send Authorization: Bearer <token>.',
      );
    }
    return next();
  });

  dashboardData(admin, { store, gallery: deps.gallery, health, masked });

  admin.get('/metrics', async (c) => c.body(await deps.metrics.text(), 200, { 'Content-Type': deps.metrics.contentType() }));

  admin.get('/licenses', async (c) => {
    const page = readPage(c);
    if (page instanceof Response) return page;
    const licenses = await store.listLicenses();
    return c.json(licenses.slice(page.offset, page.offset + page.limit).map(masked));
  });

  admin.get('/licenses/:id', async (c) => {
    const license = await store.getLicense(c.req.param('id'));
    return license ? c.json(masked(license)) : noLicense(c, c.req.param('id'));
  });

  admin.patch('/licenses/:id', async (c) => {
    const id = c.req.param('id');
    const current = await store.getLicense(id);
    if (!current) return noLicense(c, id);
    const patch = await readJson(c, (body) => readLicensePatch(body, 'body', current));
    if (patch instanceof Response) return patch;
    return c.json(masked((await store.updateLicense(id, patch))!));
  });

  // A license of its own for one test: a fresh id and key, gone after its TTL or when deleted.
  admin.post('/licenses', async (c) => {
    const created = await readJson(c, (body) => {
      const raw = readObject(body, 'body', ['credits', 'allowedIps', 'maxConcurrent', 'ttlSeconds']);
      const ttlSeconds = raw.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : readInt(raw.ttlSeconds, 'body.ttlSeconds', 1, MAX_TTL_SECONDS);
      const { ttlSeconds: _ttl, ...settingsOnly } = raw;
      const settings = readLicensePatch(settingsOnly, 'body', {
        credits: DEFAULT_LICENSE.credits,
        allowedIps: deps.defaultAllowedIps,
        maxConcurrent: DEFAULT_LICENSE.maxConcurrent,
      });
      return {
        licenseId: `t-${randomBytes(8).toString('hex')}`,
        apiKey: randomBytes(16).toString('hex'),
        credits: settings.credits,
        allowedIps: settings.allowedIps,
        maxConcurrent: settings.maxConcurrent,
        expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
      };
    });
    if (created instanceof Response) return created;
    const full = await licensesFull(c);
    if (full) return full;
    // The only answer that shows a key: the test that asked needs it to call the API.
    return c.json({ ...(await store.putLicense(created)), apiKey: created.apiKey }, 201);
  });

  admin.delete('/licenses/:id', async (c) => {
    const id = c.req.param('id');
    return (await store.deleteLicense(id)) ? c.json({ deleted: id }) : noLicense(c, id);
  });

  admin.put('/licenses/:id', async (c) => {
    const licenseId = c.req.param('id');
    const license = await readJson(c, (body) => {
      const raw = readObject(body, 'body', ['licenseId', 'apiKey', 'credits', 'allowedIps', 'maxConcurrent']);
      if (raw.licenseId !== undefined && raw.licenseId !== licenseId)
        throw new ConfigError('body.licenseId', `"${licenseId}" as in the URL, or nothing`, raw.licenseId);
      const apiKey = readString(raw.apiKey, 'body.apiKey');
      const { credits, allowedIps, maxConcurrent } = readLicensePatch({ ...raw, licenseId: undefined }, 'body', {
        credits: 0,
        allowedIps: deps.defaultAllowedIps,
        maxConcurrent: 2,
      });
      return { licenseId, apiKey, credits, allowedIps, maxConcurrent };
    });
    if (license instanceof Response) return license;
    if (!(await store.getLicense(licenseId))) {
      const full = await licensesFull(c);
      if (full) return full;
    }
    return c.json(masked(await store.putLicense(license)));
  });

  admin.post('/reset', async (c) => {
    await store.reset(config.licenses);
    return c.json({ reset: true, licenses: (await store.listLicenses()).map(masked) });
  });

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

  admin.get('/faults', async (c) => c.json(await store.listFaults()));

  admin.post('/faults', async (c) => {
    const spec = await readJson(c, (body) => readFaultSpec(body, config.faults.maxHangMs));
    if (spec instanceof Response) return spec;
    return c.json(await store.armFault(spec), 201);
  });

  admin.delete('/faults', async (c) => {
    await store.clearFaults();
    return c.json({ cleared: true });
  });

  admin.delete('/faults/:id', async (c) => {
    const id = c.req.param('id');
    return (await store.removeFault(id))
      ? c.json({ removed: id })
      : adminError(c, 'admin_not_found', `No armed fault "${id}". GET /__admin/faults lists them.`);
  });

  // Did the client make the calls it should? Counts journal entries that match a pattern.
  admin.post('/verify', async (c) => {
    const request = await readJson(c, readVerifyRequest);
    if (request instanceof Response) return request;
    const { pattern, count } = request;
    // With a license, only its entries: parallel tests with licenses of their own verify apart.
    const entries = await store.listJournal(pattern.licenseId === undefined ? {} : { licenseId: pattern.licenseId });
    return c.json(verifyJournal(entries, pattern, count));
  });

  /** A 429 when the store holds `admin.maxLicenses` licenses already; undefined when one more fits. */
  async function licensesFull(c: Context): Promise<Response | undefined> {
    const count = (await store.listLicenses()).length;
    if (count < config.admin.maxLicenses) return undefined;
    return adminError(
      c,
      'too_many_licenses',
      `The mock holds ${count} licenses, as many as admin.maxLicenses allows. Delete the ones your tests are done with (DELETE /__admin/licenses/:id; those made by POST also expire after their ttlSeconds), or raise admin.maxLicenses in the config.`,
    );
  }

  // Last, so only what no route above answered: a sub-app's notFound is not used under app.route.
  admin.all('*', (c) =>
    adminError(
      c,
      'admin_not_found',
      `No admin route ${c.req.method} ${c.req.path}. Routes: /ui (the dashboard), /health, /openapi.json (the contract as OpenAPI), /metrics, /licenses, /licenses/:id, /reset, /journal, /faults, /verify (docs/admin-api.md).`,
    ),
  );
  return admin;
}

/** A license made by `POST /licenses` lives this long unless the body says otherwise. */
const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 7 * 24 * 3600;

/** What `GET /licenses` and `GET /journal` answer when no `?limit=` is given. */
export const DEFAULT_LIST_LIMIT = 1000;

/** `?limit=` (1 to 100000, default {@link DEFAULT_LIST_LIMIT}) and `?offset=` (default 0) of a list. */
function readPage(c: Context): { limit: number; offset: number } | Response {
  const read = (name: string, fallback: number, min: number): number | Response => {
    const text = c.req.query(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > 100_000) {
      return adminError(c, 'admin_invalid_request', `${name} is "${text.slice(0, 20)}"; expected a whole number from ${min} to 100000, e.g. ?${name}=20.`);
    }
    return value;
  };
  const limit = read('limit', DEFAULT_LIST_LIMIT, 0);
  if (limit instanceof Response) return limit;
  const offset = read('offset', 0, 0);
  if (offset instanceof Response) return offset;
  return { limit, offset };
}

/**
 * True when the admin API without a token may answer a request to `host`: loopback by name
 * (`localhost`, `*.localhost`) or address (`127.0.0.0/8`, `::1`), or a name the config allows.
 */
export function adminHostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined || host === '') return false;
  if (host === 'localhost' || host.endsWith('.localhost') || allowed.has(host)) return true;
  const address = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(address) !== 0 && ipMatcher(LOOPBACK_RANGES).has(normaliseIp(address));
}

const LOOPBACK_RANGES = ['127.0.0.0/8', '::1'];

/** The host name of a `Host` header or an Origin's host, lower-cased, without the port; undefined when it is not one. */
function hostName(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

function masked(license: LicenseState) {
  return { ...license, apiKey: '***' };
}

async function readJson<T>(c: Context, read: (body: unknown) => T): Promise<T | Response> {
  let body: unknown;
  try {
    // No body at all is an empty object: `curl -X POST .../licenses` takes every default.
    const text = await c.req.text();
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return adminError(c, 'admin_invalid_request', 'The body is not JSON. Send Content-Type: application/json and a JSON object.');
  }
  try {
    return read(body);
  } catch (error) {
    if (error instanceof ConfigError) return adminError(c, 'admin_invalid_request', `${error.message}.`);
    throw error;
  }
}

/** The host:port of an Origin header; undefined for `null` or anything else that is not a URL. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function noLicense(c: Context, id: string): Response {
  return adminError(c, 'admin_not_found', `No license "${id}". GET /__admin/licenses lists them; PUT /__admin/licenses/${id} creates it.`);
}

function adminError<E extends Env, P extends string, I extends Input>(c: Context<E, P, I>, code: ErrorCode, message: string): Response {
  return c.json({ error: { code, message } }, ERROR_CATALOGUE[code].status as 400 | 401 | 403 | 404);
}
