import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../src/contract/index.js';
import { DEFAULT_CONFIG, loadConfigFile } from '../src/mock/index.js';
import { REPO } from './helpers/cli.js';

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

  it('the README documents every config key and every error code', async () => {
    const readme = await readFile(`${REPO}/README.md`, 'utf8');
    for (const [section, values] of Object.entries(DEFAULT_CONFIG)) {
      if (Array.isArray(values)) continue;
      for (const key of Object.keys(values)) expect(readme, `${section}.${key}`).toContain(`\`${section}.${key}\``);
    }
    const adminCodes = new Set(['admin_unauthorized', 'admin_invalid_request', 'admin_not_found', 'admin_cross_origin', 'bad_request']);
    for (const code of Object.keys(ERROR_CATALOGUE)) if (!adminCodes.has(code)) expect(readme, code).toContain(`\`${code}\``);
  });

  it('the README starts with the command that runs the tests, and .ci/run calls it', async () => {
    const readme = await readFile(`${REPO}/README.md`, 'utf8');
    const ci = await readFile(`${REPO}/.ci/run`, 'utf8');
    expect(readme.split('\n').slice(0, 6).join('\n')).toMatch(/^npm test\b/m);
    expect(ci).toMatch(/^npm test\b/m);
  });
});
