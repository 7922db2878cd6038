/* global document -- the function given to page.evaluate runs in the browser */
// The README's picture of the HTML report, from a real run: a mock at a URL behind a proxy that
// drops Credits-Remaining from its 200s (a documented rule broken) and answers errors in plain
// text (an undocumented choice changed since the previous record). Writes docs/conformance-report.png.
// Usage: npm run build && node scripts/conformance-report-screenshot.mjs
import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { startMockServer, validateConfig } from '../dist/mock/index.js';
import { ALL_CASES, compareObservations, htmlReport, runConformance } from '../dist/conformance/index.js';

const licenses = [
  { licenseId: '1234', apiKey: '5678', credits: 1000 },
  { licenseId: 'zero', apiKey: 'zero-key', credits: 0 },
];
const target = (endpoint) => ({
  endpoint,
  kind: 'url',
  credentials: { licenseId: '1234', apiKey: '5678' },
  zeroCreditLicense: { licenseId: 'zero', apiKey: 'zero-key' },
  unlistedSourceAddress: '127.0.0.2',
});

const before = await startMockServer({ port: 0, config: validateConfig({ licenses }) });
const previous = await runConformance(target(before.endpoint), ALL_CASES);
await before.close();

const upstream = await startMockServer({
  port: 0,
  config: validateConfig({ licenses, rules: { errorBody: 'text' }, network: { trustedProxies: ['127.0.0.1'] } }),
});
const proxy = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress };
  delete headers.host;
  const answer = await request(`${upstream.url}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : null });
  const body = Buffer.from(await answer.body.arrayBuffer());
  const out = { ...answer.headers };
  for (const name of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete out[name];
  if (answer.statusCode === 200) delete out['credits-remaining'];
  res.writeHead(answer.statusCode, { ...out, 'content-length': String(body.length) });
  res.end(body);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${proxy.address().port}/beia-api/v1/image`;
const report = await runConformance(target(endpoint), ALL_CASES);
const changes = compareObservations(previous.observations, report.observations, { before: previous.observedBy, after: report.observedBy });
const dir = await mkdtemp(join(tmpdir(), 'beia-report-'));
const file = join(dir, 'conformance.html');
await writeFile(file, htmlReport(report, { drift: { file: 'observed-2026-10-01.json', recordedAt: '2026-10-01T09:12:40.118Z', changes } }));
proxy.close();
await upstream.close();

const browser = await chromium.launch({
  executablePath: process.env.BEIA_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
await page.goto(`file://${file}`);
await page.screenshot({ path: 'docs/conformance-report.png' });
console.log(`wrote docs/conformance-report.png from ${file}; ${await page.evaluate(() => document.querySelectorAll('details.group').length)} rule groups`);
await browser.close();
