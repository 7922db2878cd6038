import { createRequire } from 'node:module';
import type * as UndiciModule from 'undici';

type Undici = typeof UndiciModule;
let loaded: Undici | undefined;

/**
 * undici, loaded by the first request or dispatcher that needs it, so that importing the client
 * (or `beia-kit/testcontainers`, which hands one out) does not load it. The same module a plain
 * `import 'undici'` gives: undici is CommonJS, and both go through Node's one module cache.
 */
export function undici(): Undici {
  return (loaded ??= createRequire(import.meta.url)('undici') as Undici);
}
