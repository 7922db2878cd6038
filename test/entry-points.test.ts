import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

/** What importing one of the package's entry points loads, in a fresh node process. */
function heavyModulesOf(entry: string): string[] {
  const script = `
    const { createRequire } = await import('node:module');
    await import(${JSON.stringify(`${REPO}/dist/${entry}/index.js`)});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify([...new Set(loaded.map((f) => /node_modules\\/((@img\\/)?[^/]+)\\//.exec(f)?.[1]).filter((name) => ['sharp', '@img/', 'ioredis', 'prom-client', 'busboy'].some((heavy) => name?.startsWith(heavy))))]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('light entry points', () => {
  it.each(['client', 'testcontainers', 'contract', 'conformance'])(
    'importing beia-kit/%s loads none of the mock’s heavy dependencies (sharp, ioredis, prom-client, busboy)',
    (entry) => {
      expect(heavyModulesOf(entry)).toEqual([]);
    },
  );

  it('importing beia-kit/mock loads the image and HTTP parts it always needs (the check above can fail), and ioredis only for a Redis store', () => {
    const loaded = heavyModulesOf('mock');
    expect(loaded).toEqual(expect.arrayContaining(['sharp', 'prom-client', 'busboy']));
    expect(loaded).not.toContain('ioredis');
  });
});
