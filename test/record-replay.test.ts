import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMultipart } from '@remix-run/multipart-parser';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMultipartMixed, encodeMultipartMixed } from '../src/contract/index.js';
import { RecordingFolder } from '../src/mock/index.js';
import { runCli, startCliMock, type CliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { eventually, sendImage, startTestMock } from './helpers/server.js';
import { describeWithBrowser, launchChromium } from './helpers/browser.js';

// The caller's own credentials for the live API: they must reach it untouched and be kept nowhere.
const LIVE_LICENSE = 'live-license-93c1';
const LIVE_KEY = 'live-secret-key-7f3a9d';

interface SeenRequest {
  licenseHeader: string | undefined;
  licenseId: string | undefined;
  apiKey: string | undefined;
  sha256: string;
  cropped: boolean;
  scenario: string | undefined;
}

/** Real PNGs that only the stand-in makes: a colour and a size of their own, from the upload's hash. */
async function livePng(sha256: string, part: 'result' | 'cropped'): Promise<Buffer> {
  const [r, g, b] = Buffer.from(sha256, 'hex');
  const size = part === 'result' ? { width: 37, height: 23 } : { width: 17, height: 11 };
  return sharp({ create: { ...size, channels: 3, background: { r: r!, g: g!, b: b! } } })
    .png()
    .toBuffer();
}

/**
 * The live API's stand-in: a plain node:http server that answers a known upload with known real
 * PNGs (multipart/mixed labelled by Content-ID only, with a boundary and credits format of its
 * own), 402 to the key `live-broke`, and counts what it received.
 */
async function startLiveStandIn(options: { delayMs?: number } = {}) {
  const seen: SeenRequest[] = [];
  let credits = 500;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
        const fields = new Map<string, string>();
        let image = Buffer.alloc(0);
        for (const part of parseMultipart(Buffer.concat(chunks), { boundary })) {
          if (part.name === 'image') image = Buffer.from(part.bytes);
          else if (part.name) fields.set(part.name, part.text);
        }
        const sha256 = createHash('sha256').update(image).digest('hex');
        const cropped = fields.get('includeCroppedImage') === 'true';
        seen.push({
          licenseHeader: req.headers['license-id'] as string | undefined,
          licenseId: fields.get('licenseId'),
          apiKey: fields.get('apiKey'),
          sha256,
          cropped,
          scenario: req.headers['x-beia-mock-scenario'] as string | undefined,
        });
        if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        if (fields.get('apiKey') === 'live-broke') {
          res.writeHead(402, { 'Content-Type': 'application/json', 'Credits-Remaining': '0', 'X-Live-Only': 'yes' });
          res.end(JSON.stringify({ error: { code: 'no_credits', message: 'live: no credits' } }));
          return;
        }
        credits -= 1;
        const result = await livePng(sha256, 'result');
        if (!cropped) {
          res.writeHead(200, { 'Content-Type': 'image/png', 'Credits-Remaining': String(credits), 'Set-Cookie': 'session=live-cookie' });
          res.end(result);
          return;
        }
        const { contentType, body } = encodeMultipartMixed(
          [
            {
              headers: [
                ['Content-Type', 'image/png'],
                ['Content-ID', '<result@live>'],
              ],
              body: result,
            },
            {
              headers: [
                ['Content-Type', 'image/png'],
                ['Content-ID', '<cropped@live>'],
              ],
              body: await livePng(sha256, 'cropped'),
            },
            {
              headers: [
                ['Content-Type', 'application/json'],
                ['Content-ID', '<credits@live>'],
              ],
              body: Buffer.from(JSON.stringify({ credits })),
            },
          ],
          'live-boundary-0042',
        );
        res.writeHead(200, { 'Content-Type': contentType, 'Credits-Remaining': String(credits) });
        res.end(body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/beia-api/v1/image`;
  return { endpoint, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const folders: string[] = [];
const mocks: CliMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((mock) => mock.stop()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'beia-rec-'));
  folders.push(dir);
  return dir;
}

async function cliMock(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliMock> {
  const mock = await startCliMock(args, { BEIA_MOCK_LOG_FORMAT: 'json', ...env });
  mocks.push(mock);
  return mock;
}

async function stop(mock: CliMock): Promise<void> {
  mocks.splice(mocks.indexOf(mock), 1);
  expect(await mock.stop()).toBe(0);
}

/** Keeps a live PNG answer (no cropped image) for `upload` in the folder, as the recorder would. */
async function keepRecording(folder: RecordingFolder, upload: Buffer): Promise<void> {
  await folder.keep({
    sha256: sha256(upload),
    includeCroppedImage: false,
    liveUrl: 'https://live.example/beia-api/v1/image',
    uploadBytes: upload.length,
    headers: { 'content-type': 'image/png' },
    result: await livePng(sha256(upload), 'result'),
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) files.push(...(await filesUnder(join(dir, entry.name))));
    else files.push(join(dir, entry.name));
  }
  return files;
}

/** The journal once it holds `count` entries (an entry follows its answer by moments). */
async function journal(mock: CliMock, count: number): Promise<Array<Record<string, unknown>>> {
  const base = mock.endpoint.replace('/beia-api/v1/image', '');
  let entries: Array<Record<string, unknown>> = [];
  await eventually(async () => {
    entries = (await (await fetch(`${base}/__admin/journal`)).json()) as Array<Record<string, unknown>>;
    return entries.length >= count;
  });
  return entries;
}

const live = { licenseId: LIVE_LICENSE, apiKey: LIVE_KEY };

describe('record once, replay forever (issue 27)', () => {
  it('records through beia mock --record-from, then replays offline: the same images byte for byte, under the mock own rules', async () => {
    const dir = join(await tempDir(), 'recordings');
    const standIn = await startLiveStandIn();
    const [first, second, unrecorded] = await Promise.all([jpeg(64, 48, [10, 20, 30]), jpeg(80, 60, [200, 100, 50]), jpeg(50, 50, [1, 2, 3])]);

    // Record: the stand-in decides; the mock's own license 1234 plays no part.
    const recorder = await cliMock(['--record-from', standIn.endpoint, '--recordings', dir]);
    expect(recorder.stderr()).toMatch(/record\s+forwards each image request to http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image direct/);
    const plain = await sendImage(recorder.endpoint, first, live);
    const cropped = await sendImage(recorder.endpoint, first, { ...live, includeCroppedImage: 'true' });
    const other = await sendImage(recorder.endpoint, second, live);
    const refused = await sendImage(recorder.endpoint, second, { licenseId: LIVE_LICENSE, apiKey: 'live-broke' });

    // The live answer went back as it came: status, the headers that describe it, the body.
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('image/png');
    expect(plain.headers['credits-remaining']).toBe('499');
    expect(plain.headers['set-cookie']).toBeUndefined();
    expect(plain.body.equals(await livePng(sha256(first), 'result'))).toBe(true);
    expect(cropped.headers['content-type']).toBe('multipart/mixed; boundary=live-boundary-0042');
    expect(refused.status).toBe(402);
    expect(refused.headers['credits-remaining']).toBe('0');
    expect(JSON.parse(refused.body.toString())).toEqual({ error: { code: 'no_credits', message: 'live: no credits' } });
    // The caller's own credentials reached the live API untouched.
    expect(standIn.seen).toHaveLength(4);
    for (const seen of standIn.seen.slice(0, 3)) expect(seen).toMatchObject({ licenseHeader: LIVE_LICENSE, licenseId: LIVE_LICENSE, apiKey: LIVE_KEY });
    expect(standIn.seen.map((seen) => [seen.sha256, seen.cropped])).toEqual([
      [sha256(first), false],
      [sha256(first), true],
      [sha256(second), false],
      [sha256(second), false],
    ]);
    const recordedJournal = await journal(recorder, 4);
    expect(recordedJournal.map((entry) => [entry.status, entry.recorded])).toEqual([
      [200, true],
      [200, true],
      [200, true],
      [402, undefined],
    ]);
    expect(recorder.stderr()).toMatch(/the live API answered 402 \(no_credits\): passed through, not recorded/);
    await stop(recorder);
    await standIn.close();

    // The folder: one folder per recording, a manifest, and no secret anywhere.
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { recordings: Array<{ key: string }> };
    expect(index.recordings.map((recording) => recording.key)).toEqual([`${sha256(first)}`, `${sha256(first)}.cropped`, `${sha256(second)}`].sort());
    const meta = JSON.parse(await readFile(join(dir, `${sha256(first)}.cropped`, 'recording.json'), 'utf8'));
    expect(meta).toMatchObject({ sha256: sha256(first), includeCroppedImage: true, liveUrl: standIn.endpoint, upload: { bytes: first.length } });
    expect(meta.images.cropped).toMatchObject({ file: 'cropped.png', width: 17, height: 11 });
    for (const file of await filesUnder(dir)) {
      const text = await readFile(file);
      expect(text.includes(LIVE_KEY), file).toBe(false);
      expect(text.includes(LIVE_LICENSE), file).toBe(false);
    }

    // Replay, offline: the stand-in is gone. The mock's license, with 3 credits.
    const config = join(await tempDir(), 'mock.json');
    await writeFile(config, JSON.stringify({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 3 }] }));
    const replayer = await cliMock(['--recordings', dir, '--config', config]);
    expect(replayer.stderr()).toContain(`replay    ${dir}: 3 recordings of the live API`);
    const replayedPlain = await sendImage(replayer.endpoint, first);
    expect(replayedPlain.status).toBe(200);
    expect(replayedPlain.body.equals(plain.body)).toBe(true);
    expect(replayedPlain.headers['credits-remaining']).toBe('2');
    // includeCroppedImage=true: the recorded images, byte for byte, in the mock's own framing (M5).
    const replayedCropped = await sendImage(replayer.endpoint, first, { includeCroppedImage: 'true' });
    const parts = decodeMultipartMixed(replayedCropped.body, String(replayedCropped.headers['content-type']));
    expect(parts.map((part) => part.name)).toEqual(['result', 'cropped', 'credits']);
    expect(parts[0]!.headers['content-disposition']).toBe('inline; name="result"; filename="result.png"');
    expect(Buffer.from(parts[0]!.bytes).equals(await livePng(sha256(first), 'result'))).toBe(true);
    expect(Buffer.from(parts[1]!.bytes).equals(await livePng(sha256(first), 'cropped'))).toBe(true);
    expect(new TextDecoder().decode(parts[2]!.bytes)).toBe('1');
    expect(replayedCropped.headers['credits-remaining']).toBe('1');
    // The mock's key check, not the recording, decides.
    expect((await sendImage(replayer.endpoint, second, { apiKey: 'wrong' })).status).toBe(401);
    // An upload without a recording gets the mock's own image.
    const synthetic = await sendImage(replayer.endpoint, unrecorded);
    expect(synthetic.status).toBe(200);
    expect((await sharp(synthetic.body).metadata()).width).toBe(50);
    expect(synthetic.headers['credits-remaining']).toBe('0');
    // 402 at zero, recording or not.
    const broke = await sendImage(replayer.endpoint, second);
    expect(broke.status).toBe(402);
    expect(JSON.parse(broke.body.toString()).error.code).toBe('no_credits');
    // A fault still fires on a recorded upload.
    const base = replayer.endpoint.replace('/beia-api/v1/image', '');
    await fetch(`${base}/__admin/licenses/1234`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ credits: 5 }) });
    await fetch(`${base}/__admin/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'error', count: 1 }),
    });
    const faulted = await sendImage(replayer.endpoint, second);
    expect(faulted.status).toBe(500);
    expect(faulted.headers['credits-remaining']).toBe('5');
    const replayedSecond = await sendImage(replayer.endpoint, second);
    expect(replayedSecond.body.equals(other.body)).toBe(true);
    expect(replayedSecond.headers['credits-remaining']).toBe('4');

    const entries = await journal(replayer, 7);
    expect(entries.map((entry) => [entry.status, entry.replayed ?? false])).toEqual([
      [200, true],
      [200, true],
      [401, false],
      [200, false],
      [402, false],
      [500, true],
      [200, true],
    ]);
    expect(JSON.parse(await (await fetch(`${base}/__admin/health`)).text()).recordings).toEqual({ mode: 'replay', strict: false });
  }, 60_000);

  it('the record budget stops forwarding at exactly N, for concurrent requests too, and a restart keeps it spent', async () => {
    const dir = await tempDir();
    const standIn = await startLiveStandIn({ delayMs: 300 });
    const uploads = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => jpeg(40, 30, [i * 30, 10, 10])));

    const recorder = await cliMock(['--record-from', standIn.endpoint, '--recordings', dir, '--record-budget', '3']);
    const answers = await Promise.all(uploads.slice(0, 6).map((upload) => sendImage(recorder.endpoint, upload, live)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 402, 402, 402]);
    expect(standIn.seen).toHaveLength(3);
    const spent = answers.find((answer) => answer.status === 402)!;
    const error = JSON.parse(spent.body.toString()).error;
    expect(error.code).toBe('record_budget_spent');
    expect(error.message).toMatch(/The record budget is spent: 3 requests were forwarded to the live API .* --record-budget allows 3/);
    expect(JSON.parse(await readFile(join(dir, 'budget.json'), 'utf8')).forwarded).toBe(3);
    await stop(recorder);

    // A restart with the same budget forwards nothing more.
    const again = await cliMock(['--record-from', standIn.endpoint, '--recordings', dir, '--record-budget', '3']);
    expect(again.stderr()).toContain('budget 3, 3 forwarded so far');
    expect((await sendImage(again.endpoint, uploads[6]!, live)).status).toBe(402);
    expect(standIn.seen).toHaveLength(3);
    await stop(again);

    // A larger budget (from the environment) forwards exactly one more.
    const more = await cliMock([], { BEIA_MOCK_RECORD_FROM: standIn.endpoint, BEIA_MOCK_RECORDINGS: dir, BEIA_MOCK_RECORD_BUDGET: '4' });
    expect((await sendImage(more.endpoint, uploads[6]!, live)).status).toBe(200);
    expect((await sendImage(more.endpoint, uploads[5]!, live)).status).toBe(402);
    expect(standIn.seen).toHaveLength(4);
    await stop(more);
    await standIn.close();
  }, 60_000);

  it('a live API out of reach is a 502 record_upstream_failed that names it without credentials, and counts against the budget', async () => {
    const dir = await tempDir();
    const closed = await startLiveStandIn();
    await closed.close();
    const withCredentials = closed.endpoint.replace('http://', 'http://user:pw-secret@');
    const recorder = await cliMock(['--record-from', withCredentials, '--recordings', dir, '--record-budget', '1']);
    expect(recorder.stderr()).not.toContain('pw-secret');
    const failed = await sendImage(recorder.endpoint, await jpeg(), live);
    expect(failed.status).toBe(502);
    const error = JSON.parse(failed.body.toString()).error;
    expect(error.code).toBe('record_upstream_failed');
    expect(error.message).toContain(`Failed to get an answer from the live API at ${closed.endpoint}`);
    expect(error.message).not.toContain('pw-secret');
    expect((await sendImage(recorder.endpoint, await jpeg(), live)).status).toBe(402);
  }, 30_000);

  it('only allowed addresses may use the recorder: loopback by default, more with --record-allow', async () => {
    const dir = await tempDir();
    const standIn = await startLiveStandIn();
    const config = join(dir, 'mock.json');
    await writeFile(config, JSON.stringify({ network: { trustedProxies: ['127.0.0.1'] } }));
    const image = await jpeg();
    const fromFar = { ...live, headers: { 'X-Forwarded-For': '203.0.113.9' } };

    const loopbackOnly = await cliMock(['--config', config, '--record-from', standIn.endpoint, '--recordings', join(dir, 'a')]);
    const refused = await sendImage(loopbackOnly.endpoint, image, fromFar);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body.toString()).error.message).toMatch(
      /only from 127\.0\.0\.1, ::1; this one came from 203\.0\.113\.9\. Allow more with --record-allow/,
    );
    expect(standIn.seen).toHaveLength(0);

    const widened = await cliMock([
      '--config',
      config,
      '--record-from',
      standIn.endpoint,
      '--recordings',
      join(dir, 'b'),
      '--record-allow',
      '127.0.0.1,203.0.113.0/24',
    ]);
    expect((await sendImage(widened.endpoint, image, fromFar)).status).toBe(200);
    expect((await sendImage(widened.endpoint, image, { ...live, headers: { 'X-Forwarded-For': '198.51.100.7' } })).status).toBe(403);
    expect(standIn.seen).toHaveLength(1);
    await standIn.close();
  }, 30_000);

  it('--recordings-strict refuses an upload it has no recording of with a 415 naming its sha256, spending nothing', async () => {
    const dir = await tempDir();
    const recorded = await jpeg(64, 48, [90, 90, 90]);
    const folder = await RecordingFolder.open(dir, { create: true });
    await keepRecording(folder, recorded);
    const unknown = await jpeg(64, 48, [200, 30, 90]);
    expect(sha256(unknown)).not.toBe(sha256(recorded));

    const strict = await cliMock(['--recordings', dir, '--recordings-strict']);
    expect(strict.stderr()).toContain('an upload without one gets a 415 no_recording (--recordings-strict)');
    const refused = await sendImage(strict.endpoint, unknown);
    expect(refused.status).toBe(415);
    expect(refused.headers['credits-remaining']).toBe('100');
    const error = JSON.parse(refused.body.toString()).error;
    expect(error.code).toBe('no_recording');
    expect(error.message).toContain(`sha256 ${sha256(unknown)}`);
    expect(error.message).toContain(`--record-from https://aws.beiatechnology.com/beia-api/v1/image --recordings ${dir}`);
    // The same upload with the cropped image has no recording either: the key is both.
    expect((await sendImage(strict.endpoint, recorded, { includeCroppedImage: 'true' })).status).toBe(415);
    const ok = await sendImage(strict.endpoint, recorded);
    expect(ok.status).toBe(200);
    expect(ok.body.equals(await livePng(sha256(recorded), 'result'))).toBe(true);
    expect(ok.headers['credits-remaining']).toBe('99');
  }, 30_000);

  it('beia recordings list and verify see what is there; verify names a changed or missing file; prune --broken removes it', async () => {
    const dir = await tempDir();
    const folder = await RecordingFolder.open(dir, { create: true });
    const uploads = [await jpeg(30, 30, [1, 1, 1]), await jpeg(30, 30, [2, 2, 2])];
    for (const upload of uploads) {
      const sha = sha256(upload);
      await folder.keep({
        sha256: sha,
        includeCroppedImage: true,
        liveUrl: 'https://live.example/beia-api/v1/image',
        uploadBytes: upload.length,
        headers: { 'content-type': 'multipart/mixed; boundary=x' },
        result: await livePng(sha, 'result'),
        cropped: await livePng(sha, 'cropped'),
      });
    }
    const [changed, intact] = uploads.map((upload) => `${sha256(upload)}.cropped`) as [string, string];

    const listed = await runCli(['recordings', 'list', dir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${sha256(uploads[0]!)}  cropped`);
    expect(listed.stdout).toContain('result 37x23');
    expect(listed.stdout).toMatch(/2 recordings in /);
    expect(await runCli(['recordings', 'verify', dir])).toMatchObject({ code: 0 });

    const result = join(dir, changed, 'result.png');
    const bytes = await readFile(result);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    await writeFile(result, bytes);
    await rm(join(dir, intact, 'cropped.png'));
    const verified = await runCli(['recordings', 'verify', dir]);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`${result}: changed`);
    expect(verified.stderr).toContain(`${join(dir, intact, 'cropped.png')}: missing`);

    const pruned = await runCli(['recordings', 'prune', dir, '--broken']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`removed ${changed}`);
    expect(await runCli(['recordings', 'verify', dir])).toMatchObject({ code: 0 });
    expect((await readdir(dir)).filter((name) => name.endsWith('.cropped'))).toEqual([]);
  }, 30_000);

  it('says what is wrong with the flags: a usage error, exit 2', async () => {
    const budgetAlone = await runCli(['mock', '--record-budget', '3']);
    expect(budgetAlone.code).toBe(2);
    expect(budgetAlone.stderr).toContain('--record-budget (BEIA_MOCK_RECORD_BUDGET) set how the mock records: add --record-from URL --recordings DIR');
    const noFolder = await runCli(['mock', '--record-from', 'https://live.example/beia-api/v1/image']);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain('--record-from (BEIA_MOCK_RECORD_FROM) needs --recordings DIR');
    const prune = await runCli(['recordings', 'prune', '/tmp']);
    expect(prune.code).toBe(2);
    expect(prune.stderr).toMatch(/^beia recordings: prune needs what to remove: --older-than DAYS, --broken, or both\.\nRun "beia recordings --help"/);
    const typo = await runCli(['recordings', 'verify', '/tmp', '--brokn']);
    expect(typo.stderr).toContain('unknown option --brokn. Did you mean --broken?');
  });
});

describeWithBrowser('the dashboard says an answer was replayed', () => {
  it('the Cache column says replayed for a recorded upload, miss for another, and the details say why', async () => {
    const dir = await tempDir();
    const recorded = await jpeg(64, 48, [120, 20, 220]);
    const folder = await RecordingFolder.open(dir, { create: true });
    await keepRecording(folder, recorded);
    const mock = await startTestMock({}, { replay: { recordings: folder } });
    expect((await sendImage(mock.endpoint, recorded)).status).toBe(200);
    expect((await sendImage(mock.endpoint, await jpeg(64, 48, [5, 200, 5]))).status).toBe(200);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${mock.url}/__admin/ui`);
      const rows = page.locator('#requests tbody tr');
      await rows.nth(1).waitFor();
      // Newest first: the unrecorded upload, then the recorded one.
      await expect(rows.nth(0).locator('td').nth(7).textContent()).resolves.toBe('miss');
      await expect(rows.nth(1).locator('td').nth(7).textContent()).resolves.toBe('replayed');
      await rows
        .nth(1)
        .getByRole('button', { name: /Details of request/ })
        .click();
      await expect(page.locator('#details').textContent()).resolves.toContain('replayed: the images are a recording of the live API');
    } finally {
      await browser.close();
    }
  });
});
