import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MockAdminClient } from '../src/mock/index.js';
import { startCliMock, type CliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { describeWithRedis, startRedis, type TestRedis } from './helpers/redis.js';
import { eventually, sendImage } from './helpers/server.js';

let redis: TestRedis;
let image: Buffer;

/** Two `beia mock` replicas on one Redis, with keys of their own under a fresh prefix. */
async function replicas(licenses: unknown[], extra: Record<string, unknown> = {}, count = 2): Promise<CliMock[]> {
  const config = JSON.stringify({ licenses, store: { prefix: `r${randomBytes(4).toString('hex')}:`, slotLeaseMs: 1000 }, ...extra });
  const mocks: CliMock[] = [];
  for (let i = 0; i < count; i++) mocks.push(await startCliMock(['--store', redis.url, '--config-json', config, '--quiet']));
  return mocks;
}

const admin = (mock: CliMock) => new MockAdminClient(new URL(mock.endpoint).origin);
const send = (mock: CliMock, licenseId: string) => sendImage(mock.endpoint, image, { licenseId, apiKey: 'k' });

describeWithRedis('beia mock --store redis://: replicas share one state', () => {
  beforeAll(async () => {
    redis = await startRedis({ persist: true });
    image = await jpeg();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it('5 credits and 30 requests at once, spread over two replicas: exactly five 200s', async () => {
    const [a, b] = await replicas([{ licenseId: 'S', apiKey: 'k', credits: 5, maxConcurrent: 50 }], { processing: { delayMs: 30 } });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 2 ? a! : b!, 'S')));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.every((s) => [200, 402, 429].includes(s))).toBe(true);
    expect((await admin(b!).license('S')).credits).toBe(0);
    expect(a!.stderr()).toMatch(/store\s+redis:\/\/127\.0\.0\.1:\d+ \(keys r[0-9a-f]+:\*\)\s+new: seeded/);
    expect(b!.stderr()).toMatch(/loaded: the config's licenses seed an empty store only/);
    await Promise.all([a!.stop(), b!.stop()]);
  });

  it("holds a license's concurrency limit across replicas", async () => {
    const [a, b] = await replicas([{ licenseId: 'C', apiKey: 'k', credits: 100, maxConcurrent: 2 }], { processing: { delayMs: 600 } });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(i % 2 ? a! : b!, 'C')));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    expect((await admin(a!).license('C')).credits).toBe(98);
    await Promise.all([a!.stop(), b!.stop()]);
  });

  it('a fault armed through one replica fires on a request served by the other', async () => {
    const [a, b] = await replicas([{ licenseId: 'F', apiKey: 'k', credits: 10, maxConcurrent: 2 }]);
    await admin(a!).armFault({ type: 'error', count: 1, licenseId: 'F' });
    expect((await send(b!, 'F')).status).toBe(500);
    expect((await send(b!, 'F')).status).toBe(200);
    expect(await admin(a!).faults()).toEqual([]);
    const journal = await admin(a!).journal({ licenseId: 'F' });
    expect(journal.map((entry) => entry.status)).toEqual([500, 200]);
    await Promise.all([a!.stop(), b!.stop()]);
  });

  it('a replica killed with SIGKILL mid-request frees its slot when the lease ends, and spends nothing', async () => {
    const [a, b] = await replicas([{ licenseId: 'K', apiKey: 'k', credits: 10, maxConcurrent: 1 }]);
    await admin(b!).armFault({ type: 'latency', latencyMs: 20_000, count: 1, licenseId: 'K' });
    const doomed = send(a!, 'K').catch(() => 'cut');
    // Killed only once the fault is taken (inFlight is 1 from admission on, before the fault is
    // drawn): a replica killed in between would leave its 20 s fault armed for the other one.
    await eventually(async () => (await admin(b!).license('K')).inFlight === 1 && (await admin(b!).faults()).length === 0);
    a!.child.kill('SIGKILL');
    expect(await doomed).toBe('cut');
    expect((await send(b!, 'K')).status).toBe(429); // the dead replica's lease still holds the slot
    await eventually(async () => (await admin(b!).license('K')).inFlight === 0, 5_000);
    expect((await send(b!, 'K')).status).toBe(200);
    expect((await admin(b!).license('K')).credits).toBe(9);
    await b!.stop();
  });

  it('Redis stopped mid-run: 500s that say so and a degraded health, then service resumes by itself with credits exact', async () => {
    const [a] = await replicas([{ licenseId: 'R', apiKey: 'k', credits: 10, maxConcurrent: 2 }], {}, 1);
    for (let i = 0; i < 3; i++) expect((await send(a!, 'R')).status).toBe(200);
    await redis.stop();
    const refused = await send(a!, 'R');
    expect(refused.status).toBe(500);
    expect(JSON.parse(refused.body.toString()).error.message).toMatch(
      /The Redis store redis:\/\/127\.0\.0\.1:\d+ did not answer: (the connection to Redis is down|nothing listens there)[^.]*\. Nothing was spent/,
    );
    expect((await admin(a!).health()).status).toBe('degraded');
    await redis.start();
    await eventually(async () => (await admin(a!).health()).status === 'ok', 10_000);
    expect((await send(a!, 'R')).status).toBe(200);
    expect((await admin(a!).license('R')).credits).toBe(6);
    await a!.stop();
  });
});
