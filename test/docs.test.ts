import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../src/contract/index.js';
import { DEFAULT_CONFIG, loadConfigFile } from '../src/mock/index.js';
import { REPO } from './helpers/cli.js';

/** README.md and every page of docs/, as one text. */
async function allDocs(): Promise<string> {
  const pages = (await readdir(`${REPO}/docs`)).filter((f) => f.endsWith('.md'));
  const texts = await Promise.all([`${REPO}/README.md`, ...pages.map((f) => `${REPO}/docs/${f}`)].map((f) => readFile(f, 'utf8')));
  return texts.join('\n');
}

/** The anchors GitHub gives a page's headings (outside code blocks). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let code = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) code = !code;
    const heading = !code && /^#{1,6} (.*)$/.exec(line);
    if (heading)
      anchors.add(
        heading[1]!
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .trim()
          .replace(/\s/g, '-'),
      );
  }
  return anchors;
}

describe('the docs match the code', () => {
  it('the example config is valid and spells out every default key', async () => {
    const config = await loadConfigFile(`${REPO}/examples/mock-config.json`);
    const raw = JSON.parse(await readFile(`${REPO}/examples/mock-config.json`, 'utf8')) as Record<string, Record<string, unknown>>;
    for (const [section, values] of Object.entries(DEFAULT_CONFIG)) {
      if (Array.isArray(values)) continue;
      expect(Object.keys(raw[section] ?? {}).sort(), section).toEqual(Object.keys(values).sort());
    }
    expect(config.licenses.map((l) => l.licenseId)).toEqual(['1234', 'broke']);
  });

  it('docs/configuration.md documents every config key, and the docs every error code', async () => {
    const configuration = await readFile(`${REPO}/docs/configuration.md`, 'utf8');
    for (const [section, values] of Object.entries(DEFAULT_CONFIG)) {
      if (Array.isArray(values)) continue;
      for (const key of Object.keys(values)) expect(configuration, `${section}.${key}`).toContain(`\`${section}.${key}\``);
    }
    const docs = await allDocs();
    const adminCodes = new Set(['admin_unauthorized', 'admin_invalid_request', 'admin_not_found', 'admin_cross_origin', 'bad_request']);
    for (const code of Object.keys(ERROR_CATALOGUE)) if (!adminCodes.has(code)) expect(docs, code).toContain(`\`${code}\``);
  });

  it('every relative link in the README and docs/ points at a file that exists, and every #anchor at a heading', async () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...(await readdir(`${REPO}/docs`)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]) {
      const text = await readFile(`${REPO}/${file}`, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = path === '' ? `${REPO}/${file}` : resolve(dirname(`${REPO}/${file}`), path);
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md') && !headingAnchors(await readFile(resolved, 'utf8')).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README front page fits on two screens and links every page of docs/', async () => {
    const readme = await readFile(`${REPO}/README.md`, 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(100);
    for (const page of (await readdir(`${REPO}/docs`)).filter((f) => f.endsWith('.md'))) expect(readme, page).toContain(`(docs/${page}`);
  });

  it('the Node versions in package.json, the README, the docs and the image are those CI runs (scripts/node-versions.sh)', async () => {
    const script = await readFile(`${REPO}/scripts/node-versions.sh`, 'utf8');
    const pinned = Object.fromEntries([...script.matchAll(/^(BEIA_\w+)=(\S+)/gm)].map(([, name, value]) => [name!, value!]));
    const [floor, node22, node24] = [pinned.BEIA_NODE_FLOOR!, pinned.BEIA_NODE_22!, pinned.BEIA_NODE_24!];
    expect([floor, node22, node24].every((v) => /^\d+\.\d+\.\d+$/.test(v))).toBe(true);
    expect(pinned.BEIA_IMAGE_NODE).toBe('$BEIA_NODE_24');
    expect((JSON.parse(await readFile(`${REPO}/package.json`, 'utf8')) as { engines: { node: string } }).engines.node).toBe(`>=${floor}`);

    const table = /^## Node versions\n\n((?:\|.*\n)+)/m.exec(await readFile(`${REPO}/docs/development.md`, 'utf8'))?.[1] ?? '';
    const row = (major: string) => table.split('\n').find((line) => line.startsWith(`| ${major} `)) ?? '';
    expect(row('24')).toContain(node24);
    expect(row('22')).toContain(node22);
    expect(row('20')).toContain(floor);
    expect(await readFile(`${REPO}/.ci/run`, 'utf8')).toMatch(/^for version in \$BEIA_NODE_22 \$BEIA_NODE_24 \$BEIA_NODE_FLOOR; do$/m);

    const readme = (await readFile(`${REPO}/README.md`, 'utf8')).replace(/\s+/g, ' ');
    expect(readme).toContain(`Requirements: Node ${floor.replace(/\.0$/, '')} or later, tested on 20, 22 and 24`);
    expect(readme).toContain(`The Docker image runs Node ${node24.split('.')[0]}; its \`NODE_IMAGE\` build argument picks another`);
    expect(await readFile(`${REPO}/docker/Dockerfile`, 'utf8')).toContain(`ARG NODE_IMAGE=node:${node24.split('.')[0]}-bookworm-slim`);
    expect(await readFile(`${REPO}/docs/docker.md`, 'utf8')).toContain(`beia-kit/node-base:${node24}-bookworm`);
  });

  it('the README starts with the command that runs the tests, and .ci/run calls it', async () => {
    const readme = await readFile(`${REPO}/README.md`, 'utf8');
    const ci = await readFile(`${REPO}/.ci/run`, 'utf8');
    expect(readme.split('\n').slice(0, 6).join('\n')).toMatch(/^npm test\b/m);
    expect(ci).toMatch(/^npm test\b/m);
  });

  it('the package ships the docs, LICENSE and CHANGELOG, no source maps (their sources are not shipped), and an executable bin', async () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' })) as [
      { files: { path: string }[] },
    ];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'README.md', 'docs/rules.md', 'docs/security.md', 'dist/cli/index.js']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    expect((await stat(`${REPO}/dist/cli/index.js`)).mode & 0o111).not.toBe(0);
  });
});
