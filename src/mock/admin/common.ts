import type { Context, Env, Input, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isIP } from 'node:net';
import { ERROR_CATALOGUE, type ErrorCode } from '../../contract/index.js';
import { secretsEqual } from '../../shared/index.js';
import { ConfigError, type MockConfig } from '../config/index.js';
import type { UploadBudget } from '../form/upload-budget.js';
import type { ImageGallery } from '../images/gallery.js';
import type { ImageRenderer } from '../images/renderer.js';
import type { MockMetrics } from '../metrics.js';
import type { MockBindings } from '../http/transport.js';
import { ipMatcher, normaliseIp } from '../net/ip.js';
import type { LicenseState, MockStore } from '../store/index.js';

/** What every admin route may use: what the mock was given, and what it is made of. */
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

// The guards, in the order `adminRoutes` mounts them.

/**
 * Without a token, only loopback and the allowed names: a web page that rebinds its own name to
 * 127.0.0.1 sends that name in Host (docs/security.md).
 */
export function refuseOtherHosts(deps: AdminDeps): MiddlewareHandler<{ Bindings: MockBindings }> {
  const allowedHosts = new Set(deps.config.admin.allowedHosts);
  return async function refuseOtherHosts(c, next) {
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
  };
}

/** Every admin body is small JSON: a larger one is refused while it arrives, never held whole. */
export function limitAdminBodies(config: MockConfig): MiddlewareHandler {
  return bodyLimit({
    maxSize: config.admin.maxBodyBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      return adminError(
        c,
        'admin_payload_too_large',
        `The admin request body is over admin.maxBodyBytes (${config.admin.maxBodyBytes} bytes). Admin bodies are small JSON objects; send less, or raise admin.maxBodyBytes in the config.`,
      );
    },
  });
}

/**
 * A web page can POST to a loopback admin API without a preflight; browsers name the page in
 * Origin. Tools (curl, tests, CI) send no Origin, or the mock's own.
 */
export const refuseOtherOrigins: MiddlewareHandler = async function refuseOtherOrigins(c, next) {
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
};

/** With a token, every call behind this guard needs it. */
export function requireAdminToken(deps: Pick<AdminDeps, 'adminToken'>): MiddlewareHandler {
  return async function requireAdminToken(c, next) {
    const { adminToken } = deps;
    if (adminToken === undefined) return next();
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? c.req.header('x-beia-admin-token') ?? '';
    if (!secretsEqual(given.trim(), adminToken)) {
      return adminError(
        c,
        'admin_unauthorized',
        'The admin API needs a token: the one given to --admin-token (BEIA_MOCK_ADMIN_TOKEN), or the one the mock made and printed at start. Send Authorization: Bearer <token>.',
      );
    }
    return next();
  };
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

/** The host:port of an Origin header; undefined for `null` or anything else that is not a URL. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

// What the routes share.

/** What `GET /licenses` and `GET /journal` answer when no `?limit=` is given. */
export const DEFAULT_LIST_LIMIT = 1000;

/** `?limit=` (1 to 100000, default {@link DEFAULT_LIST_LIMIT}) and `?offset=` (default 0) of a list. */
export function readPage(c: Context): { limit: number; offset: number } | Response {
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

/** The JSON body read by `read`; a 400 that says why when it is not JSON or `read` refuses it (a `ConfigError`). */
export async function readJson<T>(c: Context, read: (body: unknown) => T): Promise<T | Response> {
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

/** A license as the admin API shows it: API keys never leave the mock. */
export function masked(license: LicenseState) {
  return { ...license, apiKey: '***' };
}

/** The admin API's error answer: `{error: {code, message}}` with the catalogue's status. */
export function adminError<E extends Env, P extends string, I extends Input>(c: Context<E, P, I>, code: ErrorCode, message: string): Response {
  return c.json({ error: { code, message } }, ERROR_CATALOGUE[code].status as 400 | 401 | 403 | 404);
}
