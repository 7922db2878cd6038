import { Verifier } from '@pact-foundation/pact';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, startCliMock, type CliMock } from '../helpers/cli.js';
import { jpeg } from '../helpers/images.js';
import { sendImage } from '../helpers/server.js';
import { PROVIDER, STATE } from './interactions.js';

const PACT_FILE = join(REPO, 'pacts', 'beia-kit-client-beia-api.json');

/** A real `beia mock` on a port, and the provider states set through its admin API. */
class Provider {
  readonly base: string;
  // The requests that hold the license's two slots in the "busy" state, released when the state ends.
  #holders: { abort: AbortController; done: Promise<unknown>; pool: Agent } | undefined;

  constructor(readonly mock: CliMock) {
    this.base = mock.endpoint.replace('/beia-api/v1/image', '');
  }

  async admin(method: string, path: string, body?: unknown): Promise<void> {
    const res = await request(`${this.base}/__admin${path}`, {
      method: method as 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`admin ${method} ${path} answered ${res.statusCode}: ${text}`);
  }

  async release(): Promise<void> {
    if (!this.#holders) return;
    this.#holders.abort.abort();
    await this.#holders.done;
    await this.#holders.pool.close();
    this.#holders = undefined;
  }

  /** A fresh start for every state: config licenses, no faults, no request holding a slot. */
  async reset(): Promise<void> {
    await this.release();
    await this.admin('POST', '/reset');
  }

  stateHandlers(overrides: Partial<Record<string, () => Promise<void>>> = {}) {
    const handlers: Record<string, () => Promise<void>> = {
      [STATE.hasCredits]: () => this.reset(),
      [STATE.noCredits]: async () => {
        await this.reset();
        await this.admin('PATCH', '/licenses/1234', { credits: 0 });
      },
      [STATE.addressNotAllowed]: async () => {
        await this.reset();
        // The verifier calls from 127.0.0.1: a license that allows only another address.
        await this.admin('PATCH', '/licenses/1234', { allowedIps: ['192.0.2.1'] });
      },
      [STATE.busy]: async () => {
        await this.reset();
        // Two real images in processing, held by a hang until the state ends: the license's two slots.
        await this.admin('POST', '/faults', { type: 'hang', count: 2 });
        const abort = new AbortController();
        const pool = new Agent();
        const image = await jpeg(16, 16);
        const done = Promise.allSettled([1, 2].map(() => sendImage(this.mock.endpoint, image, { signal: abort.signal, dispatcher: pool })));
        this.#holders = { abort, done, pool };
        const deadline = Date.now() + 5_000;
        for (;;) {
          const res = await request(`${this.base}/__admin/health`);
          const { inFlight } = (await res.body.json()) as { inFlight: number };
          if (inFlight === 2) break;
          if (Date.now() > deadline) throw new Error(`the busy state needs 2 images in processing; ${inFlight} after 5 s`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
    };
    return { ...handlers, ...overrides } as Record<string, () => Promise<void>>;
  }

  verify(overrides?: Partial<Record<string, () => Promise<void>>>): Promise<string> {
    if (!existsSync(PACT_FILE)) throw new Error(`No pact file at ${PACT_FILE}: run the consumer step first (npm run pact:consumer).`);
    return new Verifier({
      provider: PROVIDER,
      providerBaseUrl: this.base,
      pactUrls: [PACT_FILE],
      logLevel: 'error',
      stateHandlers: this.stateHandlers(overrides),
    }).verifyProvider();
  }
}

const providers: Provider[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) {
    await provider.release();
    expect(await provider.mock.stop()).toBe(0);
  }
});

async function startProvider(config?: unknown): Promise<Provider> {
  const args = ['--quiet'];
  if (config !== undefined) {
    const file = join(await mkdtemp(join(tmpdir(), 'beia-pact-')), 'mock.json');
    await writeFile(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const provider = new Provider(await startCliMock(args));
  providers.push(provider);
  return provider;
}

describe('beia mock honours the pact of the reference client', () => {
  it('verifies every interaction in pacts/, each state set through the admin API', async () => {
    const provider = await startProvider();
    await expect(provider.verify()).resolves.toBeDefined();
  });

  it('fails verification when the mock drops Credits-Remaining from its errors', async () => {
    console.info('Expected: the verifier prints FAILED for Credits-Remaining below; this test proves it notices.');
    const provider = await startProvider({ rules: { creditsRemainingOnErrors: false } });
    await expect(provider.verify()).rejects.toThrow();
  });

  it('fails verification when the mock answers 401 where the pact says 402', async () => {
    console.info('Expected: the verifier prints FAILED for the 402 below; this test proves it notices.');
    const provider = await startProvider();
    await expect(
      provider.verify({
        [STATE.noCredits]: async () => {
          await provider.reset();
          await provider.admin('PATCH', '/licenses/1234', { credits: 0, apiKey: 'another-key' });
        },
      }),
    ).rejects.toThrow();
  });
});
