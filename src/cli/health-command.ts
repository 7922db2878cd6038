import { parseArgs } from 'node:util';
import { MockAdminClient } from '../mock/index.js';

const HELP = `beia health: ask a running beia mock whether it is up (for container health checks)

Usage: beia health [URL]

URL is the mock's base URL; by default http://127.0.0.1:$BEIA_MOCK_PORT (8080 when unset), so
inside the Docker image it needs no argument. It calls /__admin/health, which needs no token.

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
    base = positionals[0] ?? `http://127.0.0.1:${env.BEIA_MOCK_PORT || '8080'}`;
    if (!URL.canParse(base)) throw new Error(`"${base}" is not a URL; expected the mock's base URL, e.g. http://127.0.0.1:8080.`);
  } catch (error) {
    console.error(`beia health: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }

  const url = new URL('/__admin/health', base).href;
  try {
    const health = await new MockAdminClient(base, { timeoutMs: 3_000 }).health();
    if (health?.status !== 'ok') throw new Error(`it answered ${JSON.stringify(health)}`);
    console.log(JSON.stringify(health));
    return 0;
  } catch (error) {
    console.error(`beia health: ${url} is not healthy: ${(error as Error).message}`);
    return 1;
  }
}
