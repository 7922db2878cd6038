import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { decode, jpeg, png } from './helpers/images.js';
import { startTestMock } from './helpers/server.js';

const SECRET = 'SECRET-KEY-7781';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `beia process` with the mock's credentials; `onLine` sees stdout lines as they come. */
function beiaProcess(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'process', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      for (const line of text.split('\n').filter(Boolean)) onLine?.(line, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function folderOfImages(count: { jpeg: number; png: number; text?: boolean }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'beia-in-'));
  for (let i = 0; i < count.jpeg; i++) await writeFile(join(dir, `photo${i}.jpg`), await jpeg(50 + i, 40));
  for (let i = 0; i < count.png; i++) await writeFile(join(dir, `pic${i}.png`), await png(30, 30 + i));
  if (count.text) await writeFile(join(dir, 'notes.txt'), 'not an image\n');
  return dir;
}

async function envFor(configOverrides: unknown = {}) {
  const mock = await startTestMock(configOverrides);
  return { mock, env: { BEIA_ENDPOINT: mock.endpoint, BEIA_LICENSE_ID: '1234', BEIA_API_KEY: '5678' } };
}

describe('beia process', () => {
  it('a folder of JPEGs, PNGs and a text file: an output per image, a clear line for the text file, exit 1', async () => {
    const { mock, env } = await envFor();
    const input = await folderOfImages({ jpeg: 3, png: 2, text: true });
    const out = join(await mkdtemp(join(tmpdir(), 'beia-out-')), 'results');
    const run = await beiaProcess([input, '--out', out, '--cropped'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`fail  ${join(input, 'notes.txt')}: not an image`);
    expect(run.stdout).toContain('processed 5, skipped 0 (already done), failed 1 (not_an_image 1), credits left 95');
    const files = (await readdir(out)).filter((name) => !name.startsWith('.')).sort();
    expect(files).toEqual([
      'photo0.cropped.png',
      'photo0.png',
      'photo1.cropped.png',
      'photo1.png',
      'photo2.cropped.png',
      'photo2.png',
      'pic0.cropped.png',
      'pic0.png',
      'pic1.cropped.png',
      'pic1.png',
    ]);
    expect(await decode(await import('node:fs/promises').then((fs) => fs.readFile(join(out, 'photo1.png'))))).toEqual({ format: 'png', width: 51, height: 40 });
    expect((await mock.store.listJournal()).length).toBe(5);
  });

  it('exits 0 when every input was processed, and a second run skips them all without a request', async () => {
    const { mock, env } = await envFor();
    const input = await folderOfImages({ jpeg: 2, png: 1 });
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    expect((await beiaProcess([input, '--out', out], env)).code).toBe(0);
    const again = await beiaProcess([input, '--out', out], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('processed 0, skipped 3 (already done), failed 0');
    expect((await mock.store.listJournal()).length).toBe(3);
    expect((await beiaProcess([input, '--out', out, '--force'], env)).stdout).toContain('processed 3, skipped 0');
  });

  it('resumes after an interrupted run: Ctrl-C finishes the image in flight, exits 130, leaves no half file', async () => {
    const { mock, env } = await envFor({ processing: { delayMs: 300 } });
    const input = await folderOfImages({ jpeg: 6, png: 0 });
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    let signalled = false;
    const first = await beiaProcess([input, '--out', out, '--concurrency', '1'], env, (line, child) => {
      if (line.startsWith('ok ') && !signalled) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    expect(first.code).toBe(130);
    expect(first.stdout).toContain('stop  interrupted: finishing the 1 image(s) in flight');
    const afterFirst = await readdir(out);
    // The results and the manifest of what they came from; no temporary file.
    expect(afterFirst.filter((name) => name !== '.beia-process.json').every((name) => name.endsWith('.png') && !name.startsWith('.'))).toBe(true);
    expect(afterFirst.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(afterFirst.filter((name) => name.endsWith('.png')).length).toBe(2);
    const second = await beiaProcess([input, '--out', out, '--concurrency', '2'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('processed 4, skipped 2 (already done), failed 0');
    expect((await mock.store.listJournal()).filter((e) => e.status === 200)).toHaveLength(6);
  });

  it('stops early on 402: the rest is not started, exit 1, credits left 0', async () => {
    const { env } = await envFor({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 2 }] });
    const input = await folderOfImages({ jpeg: 6, png: 0 });
    const run = await beiaProcess([input, '--out', await mkdtemp(join(tmpdir(), 'beia-out-')), '--concurrency', '1'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('stop  402: every further image would fail the same way; not starting the rest');
    expect(run.stdout).toMatch(/processed 2, skipped 0 \(already done\), failed 1 \+ not started 3 \(no_credits 1\), credits left 0/);
  });

  it('stops after 3 images in a row got no answer: one line says the endpoint is unreachable and how to resume', async () => {
    const mock = await startTestMock();
    const endpoint = mock.endpoint;
    await mock.close(); // a port nobody listens on any more
    const input = await folderOfImages({ jpeg: 12, png: 0 });
    const run = await beiaProcess([input, '--out', await mkdtemp(join(tmpdir(), 'beia-out-')), '--retries', '0'], {
      BEIA_LICENSE_ID: '1234',
      BEIA_API_KEY: '5678',
      BEIA_ENDPOINT: endpoint,
    });
    expect(run.code).toBe(1);
    const stops = run.stdout.split('\n').filter((line) => line.startsWith('stop  '));
    expect(stops).toEqual([expect.stringMatching(/^stop {2}\S+ is unreachable: 3 images in a row got no answer .*run the same command again/)]);
    // Two in flight at once: the third failure stops it, the one in flight with it ends too.
    expect(run.stdout.split('\n').filter((line) => line.startsWith('fail  ')).length).toBeLessThanOrEqual(4);
    expect(run.stdout).toMatch(/not started \d+ \(network_error \d\)/);
  });

  it('names the nearest flag for a misspelt one, in two lines, without the whole help', async () => {
    const run = await beiaProcess(['photo.jpg', '--outt', 'x'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'beia process: unknown option --outt. Did you mean --out?\nRun "beia process --help" for the options and their environment variables.\n',
    );
  });

  it('never prints the API key, even when it is wrong', async () => {
    const { env } = await envFor();
    const input = await folderOfImages({ jpeg: 1, png: 0 });
    const run = await beiaProcess([input, '--out', await mkdtemp(join(tmpdir(), 'beia-out-'))], { ...env, BEIA_API_KEY: SECRET });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('invalid_license');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('takes globs and names with brackets, and reports inputs that name nothing', async () => {
    const { env } = await envFor();
    const dir = await mkdtemp(join(tmpdir(), 'beia-in-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.jpg'), await jpeg());
    await writeFile(join(dir, 'photo[1].jpg'), await jpeg(22, 22));
    await writeFile(join(dir, 'sub', 'b.jpg'), await jpeg(20, 20));
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    const run = await beiaProcess([join(dir, 'a.*'), join(dir, 'photo[1].jpg'), join(dir, '**/b.jpg'), join(dir, 'missing.jpg'), '--out', out], env);
    expect(run.stdout).toContain(`fail  ${join(dir, 'missing.jpg')}: no such file or folder.`);
    expect((await readdir(out)).filter((n) => !n.startsWith('.')).sort()).toEqual(['a.png', 'b.png', 'photo[1].png']);
    expect(run.code).toBe(1);
  });

  it('never lets two inputs write the same output: same names in two folders, or x.cropped.jpg beside x.jpg', async () => {
    const { mock, env } = await envFor();
    const root = await mkdtemp(join(tmpdir(), 'beia-in-'));
    await mkdir(join(root, 'a'));
    await mkdir(join(root, 'b'));
    await writeFile(join(root, 'a', 'same.jpg'), await jpeg(10, 10));
    await writeFile(join(root, 'b', 'same.jpg'), await jpeg(12, 12));
    await writeFile(join(root, 'a', 'x.jpg'), await jpeg(14, 14));
    await writeFile(join(root, 'a', 'x.cropped.jpg'), await jpeg(16, 16));
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    const run = await beiaProcess([join(root, 'a'), join(root, 'b'), '--out', out, '--cropped'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `fail  ${join(root, 'b', 'same.jpg')}: its output ${join(out, 'same.png')} is also ${join(root, 'a', 'same.jpg')}'s; not sent.`,
    );
    expect(run.stdout).toMatch(/fail {2}.*x\.(cropped\.)?jpg: its output .*x\.cropped\.png is also/);
    expect((await mock.store.listJournal()).length).toBe(2);
  });

  it('with --out inside the input folder: results are never taken for inputs, inputs never overwritten', async () => {
    const { mock, env } = await envFor();
    const dir = await folderOfImages({ jpeg: 1, png: 1 });
    const first = await beiaProcess([dir, '--out', dir], env);
    expect(first.stdout).toContain(`fail  ${join(dir, 'pic0.png')}: its output ${join(dir, 'pic0.png')} is an input`);
    const again = await beiaProcess([dir, '--out', dir], env);
    expect(again.stdout).toContain('processed 0, skipped 1 (already done), failed 1 (output_clash 1)');
    expect(again.stdout).not.toContain('pic0.cropped');
    expect((await mock.store.listJournal()).length).toBe(1);
  });

  it('an identical file under another name does not take over the output another input made', async () => {
    const { mock, env } = await envFor();
    const dir = await mkdtemp(join(tmpdir(), 'beia-in-'));
    const bytes = await jpeg(18, 18);
    await writeFile(join(dir, 'x.cropped.jpg'), bytes);
    await writeFile(join(dir, 'x.jpg'), bytes);
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    expect((await beiaProcess([join(dir, 'x.cropped.jpg'), '--out', out, '--cropped'], env)).code).toBe(0);
    const second = await beiaProcess([join(dir, 'x.jpg'), '--out', out, '--cropped'], env);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain(`${join(out, 'x.cropped.png')} exists and was made from ${join(dir, 'x.cropped.jpg')}; not sent.`);
    expect((await mock.store.listJournal()).length).toBe(1);
  });

  it('does not skip an output that another file made: it says so and sends nothing', async () => {
    const { mock, env } = await envFor();
    const one = await mkdtemp(join(tmpdir(), 'beia-in-'));
    const two = await mkdtemp(join(tmpdir(), 'beia-in-'));
    await writeFile(join(one, 'p.jpg'), await jpeg(10, 10));
    await writeFile(join(two, 'p.jpg'), await jpeg(30, 30));
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    expect((await beiaProcess([one, '--out', out], env)).code).toBe(0);
    const other = await beiaProcess([two, '--out', out], env);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain(`${join(out, 'p.png')} exists and was made from ${join(one, 'p.jpg')}; not sent. Use --force`);
    expect((await mock.store.listJournal()).length).toBe(1);
  });

  it('refuses to start without credentials or --out, with exit 2', async () => {
    const noKey = await beiaProcess(['x.jpg', '--out', 'o'], { BEIA_LICENSE_ID: '1', BEIA_API_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('no API key: set BEIA_API_KEY');
    const noOut = await beiaProcess(['x.jpg'], { BEIA_LICENSE_ID: '1', BEIA_API_KEY: 'k' });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out DIR is required');
  });
});
