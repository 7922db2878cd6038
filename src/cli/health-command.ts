import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { MockAdminClient } from '../mock/index.js';

const HELP = `beia health: ask a running beia mock whether it is up (for container health checks)

Usage: beia health [URL]

URL is the mock's base URL; by default http://127.0.0.1:$BEIA_MOCK_PORT (8080 when unset), or
https:// when BEIA_MOCK_HTTPS or BEIA_MOCK_TLS_CERT is set, so inside the Docker image it needs no
argument. On loopback, an HTTPS mock's certificate is not checked (the probe sends no secret). It calls /__admin/health, which needs no token.

Exit code: 0 the mock answered {"status":"ok"}, 1 it did not (within 3 s), 2 a bad argument.`;

/** `beia health`: GET /__admin/health, print the answer, exit 0 when the mock says ok. */
export async function runHealthCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let base: string;
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 1) throw new Error(`expected one URL, got ${positionals.length} arguments.`);
    // The image's health check runs beside a mock that may serve HTTPS (--https, or a certificate of its own).
    const https = ['1', 'true', 'yes', 'on'].includes((env.BEIA_MOCK_HTTPS ?? '').toLowerCase()) || Boolean(env.BEIA_MOCK_TLS_CERT);
    base = positionals[0] ?? `${https ? 'https' : 'http'}://127.0.0.1:${env.BEIA_MOCK_PORT || '8080'}`;
    if (!URL.canParse(base)) throw new Error(`"${base}" is not a URL; expected the mock's base URL, e.g. http://127.0.0.1:8080.`);
  } catch (error) {
    console.error(`beia health: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }

  const url = new URL('/__admin/health', base).href;
  try {
    // Asking this machine's own mock whether it is up sends nothing secret: a certificate that only
    // the mock's own CA signed is not checked on loopback, so the probe needs no CA file.
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(base).hostname);
    const dispatcher = base.startsWith('https:') && loopback ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
    const health = await new MockAdminClient(base, { timeoutMs: 3_000, ...(dispatcher ? { dispatcher } : {}) }).health().finally(() => dispatcher?.close());
    if (health?.status !== 'ok') throw new Error(`it answered ${JSON.stringify(health)}`);
    console.log(JSON.stringify(health));
    return 0;
  } catch (error) {
    console.error(`beia health: ${url} is not healthy: ${(error as Error).message}`);
    return 1;
  }
}
