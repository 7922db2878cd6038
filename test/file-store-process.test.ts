import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAdminClient } from '../src/mock/index.js';
import { runCli, startCliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { sendImage } from './helpers/server.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beia-file-store-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const config = (credits: number) =>
  JSON.stringify({ licenses: [{ licenseId: 'S', apiKey: 'k', credits, maxConcurrent: 8 }], processing: { delayMs: 30, jitterMs: 30 } });

async function creditsLeft(endpoint: string): Promise<number> {
  return (await new MockAdminClient(new URL(endpoint).origin).license('S')).credits;
}

describe('beia mock --store file:PATH', () => {
  it('keeps credits across a restart; the config seeds only an empty store, --reset-store reseeds', async () => {
    const store = `file:${join(dir, 'state.json')}`;
    const image = await jpeg();
    const first = await startCliMock(['--store', store, '--config-json', config(20), '--quiet']);
    expect(first.stderr()).toMatch(/store\s+file:.*new: seeded from the config/);
    for (let i = 0; i < 8; i++) expect((await sendImage(first.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(200);
    expect(await first.stop()).toBe(0);

    const second = await startCliMock(['--store', store, '--config-json', config(20), '--quiet']);
    expect(second.stderr()).toMatch(/store\s+file:.*loaded: the config's licenses seed an empty store only/);
    expect(second.stderr()).toMatch(/licenseId S\s+apiKey k\s+credits 12/);
    expect(await creditsLeft(second.endpoint)).toBe(12);
    // A second process on the same file is refused, and says what to do.
    const refused = await runCli(['mock', '--port', '0', '--store', store]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by another beia mock \(pid \d+.*Redis store/);
    expect(await second.stop()).toBe(0);

    const third = await startCliMock(['--store', store, '--config-json', config(20), '--reset-store', '--quiet']);
    expect(await creditsLeft(third.endpoint)).toBe(20);
    expect(await third.stop()).toBe(0);
  });

  it('killed with SIGKILL mid-burst, it comes back with every 200 spent and nothing more than was answered or cut', async () => {
    const store = `file:${join(dir, 'state.json')}`;
    const image = await jpeg();
    const mock = await startCliMock(['--store', store, '--config-json', config(30), '--quiet']);
    let answered200 = 0;
    let cut = 0;
    const burst = Array.from({ length: 40 }, async () => {
      try {
        const { status } = await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' });
        if (status === 200) answered200 += 1;
      } catch {
        cut += 1; // the connection died with the mock: maybe spent, maybe not
      }
    });
    // Kill it once some answers are out and others are still in processing.
    const deadline = Date.now() + 10_000;
    while (answered200 < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    mock.child.kill('SIGKILL');
    await Promise.all(burst);
    expect(answered200).toBeGreaterThanOrEqual(6);

    const again = await startCliMock(['--store', store, '--config-json', config(30), '--quiet']);
    const spent = 30 - (await creditsLeft(again.endpoint));
    expect(spent).toBeGreaterThanOrEqual(answered200);
    expect(spent).toBeLessThanOrEqual(answered200 + cut);
    // And it serves again from there.
    expect((await sendImage(again.endpoint, image, { licenseId: 'S', apiKey: 'k' })).headers['credits-remaining']).toBe(String(30 - spent - 1));
    expect(await again.stop()).toBe(0);
  });

  it('refuses a state file it cannot read, naming it', async () => {
    const path = join(dir, 'state.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'not json');
    const result = await runCli(['mock', '--port', '0', '--store', `file:${path}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The file store ${path} is not valid JSON`);
  });

  it('takes a file URL with an absolute path, and refuses one with a host', async () => {
    const path = join(dir, 'url-state.json');
    const mock = await startCliMock(['--store', `file://${path}`, '--quiet']);
    expect(mock.stderr()).toContain(`store     file:${path}`);
    expect(await mock.stop()).toBe(0);
    const refused = await runCli(['mock', '--port', '0', '--store', 'file://beia-state.json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--store is "file:\/\/beia-state.json": .*Write file:PATH/);
  });

  it('refuses a store it does not know, saying which ones it does', async () => {
    const result = await runCli(['mock', '--port', '0', '--store', 'postgres://x']);
    expect(result.code).toBe(2); // a usage error, as for any bad option
    expect(result.stderr).toMatch(/--store is "postgres:\/\/x"; expected memory, file:PATH .* or redis:\/\/HOST:PORT/);
  });
});
