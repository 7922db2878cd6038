import type { Hono } from 'hono';
import { openApiDocument } from '../../contract/index.js';
import { MOCK_VERSION } from '../version.js';
import type { AdminDeps } from './common.js';

/** `GET /health` and `GET /openapi.json`: no secret in either, so both answer before the guards. */
export function healthRoutes(admin: Hono, deps: AdminDeps): void {
  admin.get('/health', async (c) => c.json(await healthBody(deps)));

  // The contract as OpenAPI 3.1 (src/contract/openapi.ts): no secret in it, so no token, for Postman or a generator.
  const openApi = openApiDocument(MOCK_VERSION);
  admin.get('/openapi.json', (c) => c.json(openApi));
}

/** `GET /metrics`, for Prometheus: behind the token. */
export function metricsRoutes(admin: Hono, deps: Pick<AdminDeps, 'metrics'>): void {
  admin.get('/metrics', async (c) => c.body(await deps.metrics.text(), 200, { 'Content-Type': deps.metrics.contentType() }));
}

/** What `GET /health` answers (and the dashboard shows): it answers even when the store does not, and says so. */
export async function healthBody(deps: AdminDeps) {
  const { store } = deps;
  const { uploads, bytes } = deps.uploads.held;
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
