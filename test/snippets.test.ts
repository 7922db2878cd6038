import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO } from './helpers/cli.js';
import { docker } from './helpers/docker.js';
import { decode } from './helpers/images.js';
import { blocksOf, CODE_LANGS, type Block } from './helpers/snippets.js';

/**
 * Every code block of README.md and docs/*.md runs as printed (test/helpers/snippets.ts has the
 * markers), or is in this list, with the same name and the reason in the docs beside it. The list
 * is here so that a block is left out on purpose, never by forgetting its marker.
 */
const NOT_RUN: Record<string, string> = {
  'README.md readme-install': 'the install and the whole test run, which .ci/run runs',
  'docs/client.md client-live': 'calls the live API',
  'docs/client.md client-proxy': 'goes through a corporate proxy to the live API (test/network.test.ts: tinyproxy to the HTTPS mock)',
  'docs/mock.md mock-https-compose': 'a compose fragment (docker/compose.yaml is the file the compose test runs)',
  'docs/mock.md mock-https': 'a server that runs until stopped (test/cli.test.ts starts it with --https)',
  'docs/conformance.md conformance-live': 'runs against the live API and spends credits',
  'docs/conformance.md openapi-write': 'rewrites openapi/ in the checkout',
  'docs/conformance.md openapi-generator': 'downloads a generator that needs Java',
  'docs/development.md development': "the project's own commands",
  'docs/development.md development-node24': 'the whole unit suite again (.ci/run runs it on each Node)',
  'docs/docker.md docker-quickstart': 'a port on the default bridge network, which this engine lacks',
  'docs/docker.md docker-volume': 'a port on the default bridge network',
  'docs/docker.md docker-recordings': 'a port on the default bridge network',
  'docs/recordings.md recordings-round-trip': 'records the live API (test/record-replay.test.ts: against a stand-in)',
  'docs/recordings.md recordings-commands': 'needs a folder of recordings (test/record-replay.test.ts runs each command)',
  'docs/recordings.md recordings-docker': 'a port on the default bridge network',
  'docs/recordings.md recordings-testcontainers': 'a fragment of a test',
  'docs/docker.md docker-config': 'a port on the default bridge network',
  'docs/docker.md compose-up': 'Compose v2 is not packaged for Debian 12',
  'docs/docker.md github-actions': 'runs only on GitHub Actions',
  'docs/docker.md gitlab-ci': 'runs only on GitLab CI',
  'docs/mock.md redis-replicas': 'fixed ports, and servers that run until stopped',
  'docs/pact.md pact-publish': 'needs your Pact Broker',
  'docs/plain-http.md plain-http-start': 'a port on the default bridge network',
  'docs/plain-http.md csharp-sample': 'no .NET SDK here',
  'docs/testing-your-client.md verify-fragment': 'a fragment of a test',
  'docs/testing-your-client.md retry-fragment': 'a fragment of a test',
  'docs/testing-your-client.md double-spend-fragment': 'a fragment of a test',
  'docs/testing-your-client.md chaos-fragment': 'a fragment of a test',
};

const PAGES = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const parsed = PAGES.map((page) => blocksOf(page, readFileSync(join(REPO, page), 'utf8')));
const BLOCKS = parsed.flatMap((p) => p.blocks);
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** What a block's output must show beyond a clean exit, where the exit alone proves little. */
const CHECKS: Record<string, (project: string, stdout: string) => Promise<void>> = {
  'readme-curl': async (project) => {
    expect(await decode(await readFile(join(project, 'result.png')))).toMatchObject({ format: 'png' });
  },
  'admin-curl': async (_, stdout) => {
    expect(stdout).toContain('"credits":0');
  },
  'admin-chaos': async (_, stdout) => {
    expect(stdout).toContain('"type":"chaos","types":["error","reset","latency"],"probability":0.2,"seed":42');
  },
  'scenario-curl': async (_, stdout) => {
    expect(stdout).toMatch(/^HTTP\/1\.1 402 /m);
    expect(stdout).toContain('HTTP/1.1 429 Too Many Requests');
  },
  'rebind-curl': async (_, stdout) => {
    expect(stdout).toMatch(/^HTTP\/1\.1 403 Forbidden/m);
    expect(stdout).toContain('"code":"admin_host_not_allowed"');
  },
  'openapi-curl': async (_, stdout) => {
    expect(JSON.parse(stdout)).toMatchObject({ openapi: '3.1.0' });
  },
  'process-batch': async (project) => {
    expect((await readdir(join(project, 'results'))).filter((f) => f.endsWith('.png')).sort()).toEqual([
      '001.cropped.png',
      '001.png',
      '002.cropped.png',
      '002.png',
    ]);
  },
  'parallel-run': async (_, stdout) => {
    expect(stdout).toMatch(/Tests +1 passed/);
  },
  'testcontainers-run': async (_, stdout) => {
    expect(stdout).toMatch(/Tests +2 passed/);
  },
  'python-run-docker': async (_, stdout) => {
    expect(stdout).toMatch(/\b3 passed\b/);
  },
  'python-run-command': async (_, stdout) => {
    expect(stdout).toMatch(/\b3 passed\b/);
  },
  'plain-http-calls': async (project, stdout) => {
    expect(await decode(await readFile(join(project, 'result.png')))).toMatchObject({ format: 'png' });
    expect(stdout).toContain('[{"status":200,"code":null}]');
  },
};

describe('every code block of the README and docs/ runs, or says why not', () => {
  it('each block of code has a marker, names are unique on a page, and the blocks not run are the list above', () => {
    expect(parsed.flatMap((p) => p.problems)).toEqual([]);
    const unmarked = BLOCKS.filter((b) => CODE_LANGS.has(b.lang) && !b.marker).map((b) => `${b.page}:${b.line} \`\`\`${b.lang}`);
    expect(unmarked, 'a block of code with neither <!-- snippet: NAME --> nor <!-- not run: NAME: why --> before it').toEqual([]);
    const names = BLOCKS.filter((b) => b.marker).map((b) => `${b.page} ${b.marker!.name}`);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    const notRun = BLOCKS.filter((b) => b.marker?.kind === 'not run').map((b) => `${b.page} ${b.marker!.name}`);
    expect(notRun.sort()).toEqual(Object.keys(NOT_RUN).sort());
    // Only code is run: a marked block of data (```json) or of output would be a mistake.
    expect(BLOCKS.filter((b) => b.marker?.kind === 'snippet' && !['sh', 'ts', 'python'].includes(b.lang)).map((b) => `${b.page}:${b.line}`)).toEqual([]);
  });

  const vendorPage = join(REPO, '..', 'shared', 'beia-api-doc.txt');
  it.runIf(existsSync(vendorPage))("the C# sample is the vendor's, with only its configuration block filled in", async () => {
    const page = (await readFile(vendorPage, 'utf8')).split('\n');
    const sample = BLOCKS.find((b) => b.marker?.name === 'csharp-sample')!
      .code.trimEnd()
      .split('\n');
    const start = page.indexOf('using System;');
    const original = page.slice(start, start + sample.length);
    const changed = sample.map((line) => line.trimStart()).filter((line, i) => line !== original[i]);
    expect(changed).toEqual([
      'const string LicenseId = "1234";',
      'const string ApiKey = "5678";',
      'const string EndpointUrl = "http://127.0.0.1:8080/beia-api/v1/image";',
    ]);
  });

  it("the Python helper's version is the package's", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(await readFile(join(REPO, 'python/pyproject.toml'), 'utf8')).toContain(`\nversion = "${version}"\n`);
    expect(await readFile(join(REPO, 'python/beia_mock/mock.py'), 'utf8')).toContain(`\n__version__ = "${version}"\n`);
  });
});

/** A Debian user's shell: Node, Debian's python3 (with its pytest), docker, curl; no settings of the test run. */
function blockEnv(token: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
  };
  for (const key of ['TMPDIR', 'DOCKER_HOST']) if (process.env[key]) env[key] = process.env[key];
  if (token) env.BEIA_MOCK_ADMIN_TOKEN = token;
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: 170_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * A beia mock on 127.0.0.1:8080 in a network namespace of the block's own (root, or an
 * unprivileged user namespace), then the block in the same namespace.
 */
const WITH_MOCK = `set -u
ip link set lo up || { echo "snippets: cannot bring up loopback in the namespace" >&2; exit 97; }
node "$SNIPPET_CLI" mock --quiet \${BEIA_MOCK_ADMIN_TOKEN:+--admin-token "$BEIA_MOCK_ADMIN_TOKEN"} >"$SNIPPET_MOCK_LOG" 2>&1 &
mock=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null http://127.0.0.1:8080/__admin/health && break; sleep 0.05; done
"$@"
code=$?
kill "$mock" 2>/dev/null
wait "$mock" 2>/dev/null
exit "$code"
`;

let root: string;
beforeAll(async () => {
  await mkdir(join(REPO, 'tmp'), { recursive: true });
  // Under the checkout (tmp/ is ignored), as a project that has beia-kit would be: `npx beia`
  // and `import 'beia-kit/...'` resolve to this checkout.
  root = await mkdtemp(join(REPO, 'tmp', 'snippets-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

for (const page of PAGES) {
  const blocks = BLOCKS.filter((b) => b.page === page && b.marker?.kind === 'snippet');
  if (!blocks.some((b) => b.marker?.kind === 'snippet' && !b.marker.file)) continue;
  describe(`the blocks of ${page}, in order, in one project folder`, () => {
    let pageDir: string;
    let project: string;
    beforeAll(async () => {
      pageDir = join(root, page.replace(/[/.]/g, '-'));
      project = join(pageDir, 'project');
      await mkdir(project, { recursive: true });
      // beia-kit checked out beside the project (docs/python.md installs ../beia-kit/python), and
      // the project's own vitest config (else vitest would take this checkout's).
      await symlink(REPO, join(pageDir, 'beia-kit'));
      await writeFile(join(project, 'vitest.config.mjs'), 'export default {};\n');
    });

    let pending: Block[] = [];
    for (const block of blocks) {
      const marker = block.marker!;
      if (marker.kind !== 'snippet') continue;
      if (marker.file) {
        pending.push(block);
        continue;
      }
      const files = pending;
      pending = [];
      const title = `${marker.name} (line ${block.line}${files.length > 0 ? `, after writing ${files.map((f) => (f.marker as { file: string }).file).join(', ')}` : ''})`;
      const missing = marker.docker && !docker.ok ? docker.reason : undefined;
      if (missing !== undefined) {
        if (inCi) {
          it(title, () => {
            throw new Error(`This block needs Docker, which cannot run here: ${missing}. In CI (CI=true) that is a failure, not a skip.`);
          });
        } else {
          it.skip(title, () => {});
        }
        // The files it would have written go to the next block that runs (as a reader would have them).
        pending = [...files, ...pending];
        continue;
      }
      it(
        title,
        async () => {
          for (const file of files) {
            const target = join(project, (file.marker as { file: string }).file);
            await mkdir(dirname(target), { recursive: true });
            await writeFile(target, file.code);
          }
          for (const path of marker.files) {
            await mkdir(dirname(join(project, path)), { recursive: true });
            await copyFile(join(REPO, 'examples', '001.jpg'), join(project, path));
          }
          let command: string[];
          if (block.lang === 'sh') {
            await writeFile(join(pageDir, `${marker.name}.sh`), block.code);
            command = ['bash', '-eo', 'pipefail', join(pageDir, `${marker.name}.sh`)];
          } else if (block.lang === 'ts') {
            // Under the checkout, so that the package's own name resolves to it.
            const { outputText } = ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
            await writeFile(join(pageDir, `${marker.name}.mjs`), outputText);
            command = ['node', join(pageDir, `${marker.name}.mjs`)];
          } else {
            await writeFile(join(pageDir, `${marker.name}.py`), block.code);
            command = ['python3', join(pageDir, `${marker.name}.py`)];
          }
          const token = marker.token ? randomBytes(12).toString('hex') : undefined;
          const env = blockEnv(token);
          let result: Run;
          if (marker.mock) {
            await writeFile(join(pageDir, 'with-mock.sh'), WITH_MOCK);
            env.SNIPPET_CLI = CLI;
            env.SNIPPET_MOCK_LOG = join(pageDir, `${marker.name}.mock.log`);
            const namespace = process.getuid?.() === 0 ? ['-n'] : ['-r', '-n'];
            result = await run('unshare', [...namespace, '--', 'bash', join(pageDir, 'with-mock.sh'), ...command], project, env);
          } else {
            result = await run(command[0]!, command.slice(1), project, env);
          }
          const output = `exit ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;
          expect(result.code, output).toBe(marker.exit);
          await CHECKS[marker.name]?.(project, result.stdout);
        },
        180_000,
      );
    }
  });
}
