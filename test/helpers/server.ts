import { afterEach } from 'vitest';
import { Agent, FormData, request, type Dispatcher } from 'undici';
import { startMockServer, validateConfig, type MockServerOptions, type RunningMockServer } from '../../src/mock/index.js';

const running: RunningMockServer[] = [];

/** Closes every mock a test started, even when the test failed. */
afterEach(async () => {
  await Promise.all(running.splice(0).map((mock) => mock.close()));
});

/** A real mock on a free loopback port, closed after the test. */
export async function startTestMock(configOverrides: unknown = {}, options: Omit<MockServerOptions, 'config' | 'port'> = {}): Promise<RunningMockServer> {
  const mock = await startMockServer({ shutdownGraceMs: 2_000, ...options, config: validateConfig(configOverrides), port: 0 });
  running.push(mock);
  return mock;
}

export interface SendOptions {
  licenseId?: string;
  apiKey?: string;
  includeCroppedImage?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

/**
 * undici's own dispatcher for {@link sendImage}. The global one may be Node's: the two share it, and
 * Node 24's fetch (undici 7 inside Node), once called, installs its own, which refuses this
 * package's FormData ("TypeError: action is not a function"; nodejs/undici#4212 the other way round).
 */
const agent = new Agent();

/** The vendor's request through undici, with undici's own FormData (Node's global one breaks undici.request). */
export async function sendImage(endpoint: string, image: Uint8Array, options: SendOptions = {}) {
  const { licenseId = '1234', apiKey = '5678' } = options;
  const form = new FormData();
  form.append('licenseId', licenseId);
  form.append('apiKey', apiKey);
  form.append('image', new Blob([new Uint8Array(image)], { type: 'application/octet-stream' }), '001.jpg');
  if (options.includeCroppedImage !== undefined) form.append('includeCroppedImage', options.includeCroppedImage);
  const res = await request(endpoint, {
    method: 'POST',
    body: form,
    headers: { 'License-Id': licenseId, ...options.headers },
    dispatcher: options.dispatcher ?? agent,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Polls `probe` every 20 ms until it returns true, for at most `ms`; bounded, never endless. */
export async function eventually(probe: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}
