import type { Context, Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { ConfigError, DEFAULT_LICENSE, readLicensePatch } from '../config/index.js';
import { readInt, readObject, readString } from '../config/reader.js';
import type { NewLicense } from '../store/index.js';
import { adminError, masked, readJson, readPage, type AdminDeps } from './common.js';

/** A license made by `POST /licenses` lives this long unless the body says otherwise. */
const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 7 * 24 * 3600;

type LicenseDeps = Pick<AdminDeps, 'store' | 'config' | 'defaultAllowedIps'>;

/** `/licenses` (list, read, change, make, replace, delete) and `/reset`. API keys show as `"***"`. */
export function licenseRoutes(admin: Hono, deps: LicenseDeps): void {
  const { store, config } = deps;

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
    const created = await readJson(c, (body) => readNewLicense(body, deps.defaultAllowedIps));
    if (created instanceof Response) return created;
    const full = await licensesFull(c, deps);
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
    const license = await readJson(c, (body) => readPutLicense(body, licenseId, deps.defaultAllowedIps));
    if (license instanceof Response) return license;
    if (!(await store.getLicense(licenseId))) {
      const full = await licensesFull(c, deps);
      if (full) return full;
    }
    return c.json(masked(await store.putLicense(license)));
  });

  admin.post('/reset', async (c) => {
    await store.reset(config.licenses);
    return c.json({ reset: true, licenses: (await store.listLicenses()).map(masked) });
  });
}

/** The body of `POST /licenses`: `{credits?, allowedIps?, maxConcurrent?, ttlSeconds?}`, as a license with a fresh id and key. */
function readNewLicense(body: unknown, defaultAllowedIps: readonly string[]): NewLicense & { apiKey: string } {
  const raw = readObject(body, 'body', ['credits', 'allowedIps', 'maxConcurrent', 'ttlSeconds']);
  const ttlSeconds = raw.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : readInt(raw.ttlSeconds, 'body.ttlSeconds', 1, MAX_TTL_SECONDS);
  const { ttlSeconds: _ttl, ...settingsOnly } = raw;
  const settings = readLicensePatch(settingsOnly, 'body', {
    credits: DEFAULT_LICENSE.credits,
    allowedIps: defaultAllowedIps,
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
}

/** The body of `PUT /licenses/:id`: `{licenseId?, apiKey, credits?, allowedIps?, maxConcurrent?}`, the id as in the URL. */
function readPutLicense(body: unknown, licenseId: string, defaultAllowedIps: readonly string[]): NewLicense {
  const raw = readObject(body, 'body', ['licenseId', 'apiKey', 'credits', 'allowedIps', 'maxConcurrent']);
  if (raw.licenseId !== undefined && raw.licenseId !== licenseId)
    throw new ConfigError('body.licenseId', `"${licenseId}" as in the URL, or nothing`, raw.licenseId);
  const apiKey = readString(raw.apiKey, 'body.apiKey');
  const { credits, allowedIps, maxConcurrent } = readLicensePatch({ ...raw, licenseId: undefined }, 'body', {
    credits: 0,
    allowedIps: defaultAllowedIps,
    maxConcurrent: 2,
  });
  return { licenseId, apiKey, credits, allowedIps, maxConcurrent };
}

/** A 429 when the store holds `admin.maxLicenses` licenses already; undefined when one more fits. */
async function licensesFull(c: Context, { store, config }: LicenseDeps): Promise<Response | undefined> {
  const count = (await store.listLicenses()).length;
  if (count < config.admin.maxLicenses) return undefined;
  return adminError(
    c,
    'too_many_licenses',
    `The mock holds ${count} licenses, as many as admin.maxLicenses allows. Delete the ones your tests are done with (DELETE /__admin/licenses/:id; those made by POST also expire after their ttlSeconds), or raise admin.maxLicenses in the config.`,
  );
}

function noLicense(c: Context, id: string): Response {
  return adminError(c, 'admin_not_found', `No license "${id}". GET /__admin/licenses lists them; PUT /__admin/licenses/${id} creates it.`);
}
