import { Hono } from 'hono';
import { adminError, limitAdminBodies, masked, refuseOtherHosts, refuseOtherOrigins, requireAdminToken, type AdminDeps } from './common.js';
import { dashboardAssets, dashboardData } from './dashboard.js';
import { faultRoutes } from './routes-faults.js';
import { healthBody, healthRoutes, metricsRoutes } from './routes-health.js';
import { journalRoutes } from './routes-journal.js';
import { licenseRoutes } from './routes-licenses.js';

export type { AdminDeps } from './common.js';
export { adminHostAllowed, DEFAULT_LIST_LIMIT } from './common.js';

/**
 * The admin API under `/__admin` (docs/admin-api.md): licenses, reset, journal and faults,
 * all JSON. API keys never leave the mock: licenses show `apiKey: "***"`.
 *
 * Mounted in this order, as each guard covers only what comes after it: health and the contract
 * (no guard); the host guard; the dashboard's files; the body limit, the origin guard and the
 * token; then the dashboard's data and each resource; last, a 404 that lists the routes.
 */
export function adminRoutes(deps: AdminDeps): Hono {
  const admin = new Hono();
  healthRoutes(admin, deps);
  admin.use('*', refuseOtherHosts(deps));
  // The dashboard's page, script and style hold no data: no token, so the page can ask for it.
  dashboardAssets(admin);
  admin.use('*', limitAdminBodies(deps.config));
  admin.use('*', refuseOtherOrigins);
  admin.use('*', requireAdminToken(deps));

  dashboardData(admin, { store: deps.store, gallery: deps.gallery, health: () => healthBody(deps), masked });
  metricsRoutes(admin, deps);
  licenseRoutes(admin, deps);
  journalRoutes(admin, deps);
  faultRoutes(admin, deps);

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
