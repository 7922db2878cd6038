import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * A describe block for tests that need something this machine may lack (a Docker engine, a
 * redis-server). `reason` says what is missing, or is undefined when nothing is. Missing here, the
 * block is skipped with one line saying why (once per run); missing in CI (`CI=true`), it is
 * replaced by one failing test that says why: a skip there would hide that nothing ran.
 */
export function describeNeeding(what: string, reason: string | undefined, title: string, body: () => void, timeout?: number): void {
  if (reason === undefined) {
    if (timeout === undefined) describe(title, body);
    else describe(title, { timeout }, body);
    return;
  }
  if (inCi) {
    describe(title, () => {
      it(`has what ${what} need`, () => {
        throw new Error(`${what.charAt(0).toUpperCase()}${what.slice(1)} cannot run: ${reason}. In CI (CI=true) that is a failure, not a skip.`);
      });
    });
    return;
  }
  if (firstToSay(what, reason)) process.stderr.write(`skipping ${what}: ${reason}\n`);
  describe.skip(title, body);
}

/**
 * True in one test file of the run only, so the reason is printed once: the files run in worker
 * processes of one vitest process (`pool: 'forks'`), which a marker file named after it tells apart.
 */
function firstToSay(what: string, reason: string): boolean {
  let parent = String(process.ppid);
  try {
    // With its start time, a pid used again later is a different parent (proc(5), field 22).
    parent += `-${readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19] ?? ''}`;
  } catch {
    // no /proc: the pid alone
  }
  const marker = join(tmpdir(), `beia-kit-tests-skipped-${parent}-${createHash('sha256').update(`${what}\n${reason}`).digest('hex').slice(0, 8)}`);
  try {
    closeSync(openSync(marker, 'wx'));
    return true;
  } catch {
    return false;
  }
}
