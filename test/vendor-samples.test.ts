import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeNeeding } from './helpers/needs.js';
import { REPO, startCliMock, type CliMock } from './helpers/cli.js';
import { decode, jpeg } from './helpers/images.js';

const run = promisify(execFile);
const VENDOR_PAGE = join(REPO, '..', 'shared', 'beia-api-doc.txt');
const LIVE_URL = 'https://aws.beiatechnology.com/beia-api/v1/image';

// The curl line of the vendor page, as printed (its last line lost a newline on the page: "-o result.pngPython").
const CURL_LINE = String.raw`curl -X POST "https://aws.beiatechnology.com/beia-api/v1/image" \
-H "License-Id: 1234" \
-F "image=@d:\eco\001.jpg;filename=001.jpg" \
-F "apiKey=5678" \
-F "licenseId=1234" \
-o result.png`;

let mock: CliMock;
let input: Buffer;

beforeAll(async () => {
  input = await jpeg(120, 80);
});

/** A fresh folder holding the sample's input image under the name the sample expects. */
async function workdir(imageName: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'beia-vendor-'));
  await writeFile(join(dir, imageName), input);
  return dir;
}

/** Replaces each `from` exactly once: the sample's configuration block and nothing else. */
function configure(source: string, replacements: Array<[string, string]>): string {
  let text = source;
  for (const [from, to] of replacements) {
    expect(text.split(from), `the sample should contain ${from} once`).toHaveLength(2);
    text = text.replace(from, to);
  }
  return text;
}

async function pythonWithRequests(): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      await run(candidate, ['-c', 'import requests']);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('No python3 with the requests module: install it (apt-get install python3-requests), as .ci/run does.');
}

describe("the vendor's samples against `beia mock` with no config (D9)", () => {
  beforeAll(async () => {
    mock = await startCliMock();
    return async () => {
      await mock.stop();
    };
  });

  it('the curl line, with only the URL changed, saves a valid PNG', async () => {
    const dir = await workdir(String.raw`d:\eco\001.jpg`);
    await run('bash', ['-c', CURL_LINE.replace(LIVE_URL, mock.endpoint)], { cwd: dir });
    expect(await decode(await readFile(join(dir, 'result.png')))).toEqual({ format: 'png', width: 120, height: 80 });
  });

  it('the Python requests sample, with its configuration filled in, saves a valid PNG', async () => {
    const dir = await workdir('001.jpg');
    const source = await readFile(join(REPO, 'test/vendor-samples/beia_sample.py'), 'utf8');
    await writeFile(
      join(dir, 'beia_sample.py'),
      configure(source, [
        ['LICENSE_ID = ""', 'LICENSE_ID = "1234"'],
        ['API_KEY = ""', 'API_KEY = "5678"'],
        [LIVE_URL, mock.endpoint],
      ]),
    );
    const { stdout } = await run(await pythonWithRequests(), ['beia_sample.py'], { cwd: dir });
    expect(stdout).toContain("Result image saved to 'result.png'");
    expect(await decode(await readFile(join(dir, 'result.png')))).toEqual({ format: 'png', width: 120, height: 80 });
  });

  it('the Node axios + form-data sample, with its configuration filled in, saves a valid PNG', async () => {
    const dir = await workdir('001.jpg');
    const source = await readFile(join(REPO, 'test/vendor-samples/beia-sample.cjs'), 'utf8');
    await writeFile(
      join(dir, 'beia-sample.cjs'),
      configure(source, [
        ["const LICENSE_ID = '';", "const LICENSE_ID = '1234';"],
        ["const API_KEY = '';", "const API_KEY = '5678';"],
        [LIVE_URL, mock.endpoint],
      ]),
    );
    const { stdout } = await run(process.execPath, ['beia-sample.cjs'], { cwd: dir, env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') } });
    expect(stdout).toContain("Result image saved to 'result.png'");
    expect(await decode(await readFile(join(dir, 'result.png')))).toEqual({ format: 'png', width: 120, height: 80 });
  });

  it('every request above was logged as one JSON line with status 200', () => {
    const lines = mock
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: number; path: string });
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((line) => line.status === 200 && line.path === '/beia-api/v1/image')).toBe(true);
  });
});

// Missing here, these checks skip with one line; missing in CI, they fail: the copies would go unchecked.
describeNeeding(
  'the vendor-page checks',
  existsSync(VENDOR_PAGE)
    ? undefined
    : `the vendor page ${VENDOR_PAGE} is missing: copy the vendor's API page there (shared/beia-api-doc.txt, beside the clone)`,
  'the copies are faithful to the vendor page',
  () => {
    it('the curl line is on the page', async () => {
      const page = await readFile(VENDOR_PAGE, 'utf8');
      expect(page).toContain(`${CURL_LINE}Python`);
    });

    it('the Python sample differs from the page only by its restored indentation', async () => {
      const page = (await readFile(VENDOR_PAGE, 'utf8')).split('\n');
      const copy = (await readFile(join(REPO, 'test/vendor-samples/beia_sample.py'), 'utf8')).trimEnd().split('\n');
      const start = page.indexOf('"""');
      expect(copy.map((line) => line.trimStart())).toEqual(page.slice(start, start + copy.length));
    });

    it('the Node sample is the page, line for line', async () => {
      const page = (await readFile(VENDOR_PAGE, 'utf8')).split('\n');
      const copy = (await readFile(join(REPO, 'test/vendor-samples/beia-sample.cjs'), 'utf8')).trimEnd().split('\n');
      const start = page.indexOf('/**');
      expect(copy).toEqual(page.slice(start, start + copy.length));
    });
  },
);
