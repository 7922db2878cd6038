import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { htmlReport, type RunReport } from '../../src/conformance/index.js';
import { describeWithBrowser, launchChromium } from '../helpers/browser.js';
import { runCli, startCliMock } from '../helpers/cli.js';

const EVIL = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>';

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    kit: { name: 'beia-kit', version: '9.8.7' },
    target: { endpoint: 'https://aws.beiatechnology.com/beia-api/v1/image', kind: 'url' },
    startedAt: '2026-12-05T00:00:00.000Z',
    finishedAt: '2026-12-05T00:00:09.000Z',
    plan: { maxCredits: 16 },
    outcomes: [
      {
        id: 'M3-credits-on-errors',
        title: 'Credits-Remaining on errors',
        rule: 'M3',
        kind: 'mock-default',
        status: 'observed',
        message: 'present on 415',
        durationMs: 3,
      },
      {
        id: 'D6-credits-remaining-on-200',
        title: 'a 200 carries it',
        rule: 'D6',
        kind: 'documented',
        status: 'fail',
        message: `D6: expected Credits-Remaining: <whole number>; got ${EVIL}`,
        durationMs: 5,
      },
      { id: 'D1-endpoint', title: 'the endpoint answers', rule: 'D1', kind: 'documented', status: 'pass', message: '200, image/png', durationMs: 9 },
      { id: 'D7-500-internal-error', title: 'a 500', rule: 'D7', kind: 'documented', status: 'skip', message: 'needs admin-api', durationMs: 0 },
    ],
    observations: { errorBody: 'text', [EVIL]: EVIL },
    observedBy: { errorBody: 'M9-error-body' },
    creditsSpent: 3,
    ...overrides,
  };
}

describe('the HTML report', () => {
  it('puts the verdict first, groups the cases by rule (D before M, a group with a failure open), and escapes everything', () => {
    const html = htmlReport(report(), {
      generatedAt: new Date('2026-12-05T00:00:00Z'),
      drift: {
        file: 'last.json',
        recordedAt: '2026-10-01T00:00:00Z',
        changes: [{ key: 'errorBody', before: 'json-envelope', after: 'text', kind: 'behaviour', case: 'M9-error-body' }],
      },
    });
    expect(html.indexOf('1 case failed')).toBeGreaterThan(0);
    expect(html.indexOf('1 case failed')).toBeLessThan(html.indexOf('Cases by rule'));
    expect(html).toContain('breaks a documented rule');
    expect(html.indexOf('>D1<')).toBeLessThan(html.indexOf('>D6<'));
    expect(html.indexOf('>D7<')).toBeLessThan(html.indexOf('>M3<'));
    expect(html).toMatch(/<details class="group has-failure" open>\s*<summary><span class="rule">D6/);
    expect(html).toContain('<td>Credits-Remaining: &#60;whole number&#62;</td>');
    expect(html).toContain('3</span> credits spent');
    expect(html).toContain('1 change of behaviour');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain("default-src 'none'");
  });

  it('says how many documented rules were verified when nothing failed (not "every rule holds"), and what to do when the run stopped', () => {
    const ok = report({ outcomes: report().outcomes.filter((o) => o.status !== 'fail') });
    // D1 passed; D7's only case was skipped; no case of the others ran.
    expect(htmlReport(ok)).toContain('1 of 9 documented rules verified, all hold');
    expect(htmlReport(ok)).not.toMatch(/every (documented )?rule holds/i);
    expect(htmlReport({ ...ok, stopped: 'Credits-Remaining fell by 9' })).toContain('Stopped before the end');
  });
});

describeWithBrowser('the HTML report in a real browser', () => {
  it('shows hostile text as text: nothing runs, no element comes from the data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beia-html-'));
    const file = join(dir, 'report.html');
    await writeFile(file, htmlReport(report()));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pathToFileURL(file).href);
      expect(await page.title()).toBe('BEIA conformance: 1 case failed');
      expect(await page.locator('img, script').count()).toBe(0);
      expect(await page.locator('details.group[open] td', { hasText: '<script>document.title' }).count()).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('beia conformance --reporter html=FILE --previous FILE', () => {
  it('writes the report with the drift since the previous record, and redacts the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beia-html-'));
    const licenses = [
      { licenseId: '1234', apiKey: 'secret-key-5678', credits: 1000 },
      { licenseId: 'zero', apiKey: 'zero-key', credits: 0 },
    ];
    const config = join(dir, 'mock.json');
    const args = (endpoint: string, ...more: string[]) => [
      'conformance',
      '--target',
      endpoint,
      '--license-id',
      '1234',
      '--api-key',
      'secret-key-5678',
      '--zero-credit-license',
      'zero:zero-key',
      '--skip',
      'load',
      ...more,
    ];
    await writeFile(config, JSON.stringify({ licenses }));
    const first = await startCliMock(['--quiet', '--config', config]);
    expect((await runCli(args(first.endpoint, '--reporter', `json=${join(dir, 'r.json')}`, '--record', join(dir, 'before.json')))).code).toBe(0);
    await first.stop();

    await writeFile(config, JSON.stringify({ licenses, rules: { errorBody: 'text' } }));
    const second = await startCliMock(['--quiet', '--config', config]);
    const run = await runCli(
      args(second.endpoint, '--reporter', 'console', '--reporter', `html=${join(dir, 'report.html')}`, '--previous', join(dir, 'before.json')),
    );
    await second.stop();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`since ${join(dir, 'before.json')}: errorBody: "json-envelope" -> "text"`);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    // No admin API (the 500) and no unlisted address (D8): not verified, and said so.
    expect(html).toContain('7 of 9 documented rules verified, all hold');
    expect(html).toContain('1 change of behaviour');
    expect(html).toContain('M9-error-body');
    expect(html).not.toContain('secret-key-5678');

    const missing = await runCli(args(second.endpoint, '--previous', join(dir, 'nope.json')));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Failed to read observations');
  });
});
