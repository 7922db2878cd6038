import type { Hono } from 'hono';
import { readFaultSpec } from '../faults/index.js';
import { adminError, readJson, type AdminDeps } from './common.js';

/** `/faults`: arm one (`readFaultSpec` reads it), list them, remove one or all. */
export function faultRoutes(admin: Hono, deps: Pick<AdminDeps, 'store' | 'config'>): void {
  const { store, config } = deps;

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
}
