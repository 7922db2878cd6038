// The README's dashboard screenshots, from a real run: a mock on a free loopback port, a few
// requests of each kind, the page in Debian's Chromium at 1280x800 (and one at a phone's 390 px).
// Writes docs/dashboard-*.png.
// Usage: npm run build && node scripts/dashboard-screenshots.mjs
import { mkdir } from 'node:fs/promises';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { FormData, request } from 'undici';
import { startMockServer, validateConfig } from '../dist/mock/index.js';

const mock = await startMockServer({
  port: 0,
  config: validateConfig({
    licenses: [
      { licenseId: '1234', apiKey: '5678', credits: 100 },
      { licenseId: 'staging', apiKey: 'stg', credits: 0 },
    ],
    processing: { delayMs: 40, jitterMs: 30 },
  }),
});

const scene = (background, shapes, width = 640, height = 420) =>
  sharp({ create: { width, height, channels: 3, background } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}">${shapes}</svg>`), top: 0, left: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer();
const images = {
  sunset: await scene('#2e7d5b', '<circle cx="320" cy="210" r="150" fill="#f4c542"/><rect x="0" y="300" width="640" height="120" fill="#1b4f8a"/>'),
  portrait: await scene(
    '#8a3b1b',
    '<circle cx="200" cy="190" r="110" fill="#f2e6d8"/><rect x="90" y="330" width="220" height="270" rx="40" fill="#f2e6d8"/>',
    400,
    600,
  ),
  shelf: await scene(
    '#ece6da',
    '<rect x="80" y="90" width="140" height="240" fill="#c8553d"/><rect x="250" y="150" width="140" height="180" fill="#28536b"/><rect x="420" y="60" width="140" height="270" fill="#f2a541"/>',
  ),
};

async function send(image, { licenseId = '1234', apiKey = '5678', cropped = false, headers = {}, filename = 'photo.jpg' } = {}) {
  const form = new FormData();
  form.append('licenseId', licenseId);
  form.append('apiKey', apiKey);
  if (cropped) form.append('includeCroppedImage', 'true');
  form.append('image', new Blob([image], { type: 'image/jpeg' }), filename);
  const res = await request(mock.endpoint, { method: 'POST', body: form, headers: { 'License-Id': licenseId, ...headers } });
  await res.body.dump();
}
const admin = (method, path, body) =>
  request(`${mock.url}/__admin${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) }).then((r) =>
    r.body.dump(),
  );

await send(images.sunset, { filename: 'sunset.jpg' });
await send(images.portrait, { cropped: true, filename: 'portrait.jpg' });
await send(images.shelf, { filename: 'shelf.jpg' });
await send(images.sunset, { filename: 'sunset.jpg' }); // a cache hit
await send(images.shelf, { apiKey: 'wrong' });
await send(Buffer.from('%PDF-1.7 not an image'), { filename: 'invoice.pdf' });
await send(images.portrait, { licenseId: 'staging', apiKey: 'stg' });
await admin('POST', '/faults', { type: 'error', count: 1, licenseId: '1234' });
await send(images.shelf, { filename: 'shelf.jpg' });
await admin('POST', '/faults', { chaos: { types: ['reset', 'latency'], latencyMs: 300, probability: 0.1, seed: 42 } });
await admin('POST', '/faults', { type: 'reset', phase: 'after', count: 1, licenseId: '1234' });
await admin('POST', '/licenses', { credits: 5, ttlSeconds: 600 });

const browser = await chromium.launch({
  executablePath: process.env.BEIA_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`${mock.url}/__admin/ui`);
await page.locator('#requests tbody tr').nth(7).waitFor();
await page.locator('img.thumb[data-loaded="true"]').nth(9).waitFor();
await page.waitForTimeout(1800); // the new rows' highlight fades
await mkdir('docs', { recursive: true });
await page.screenshot({ path: 'docs/dashboard-requests.png' });
await page.getByRole('tab', { name: /Licenses/ }).click();
await page.locator('#licenses tbody tr').nth(2).waitFor();
await page.screenshot({ path: 'docs/dashboard-licenses.png' });
await page.getByRole('tab', { name: /Faults/ }).click();
await page.locator('#faults tbody tr').nth(1).waitFor();
await page.screenshot({ path: 'docs/dashboard-faults.png' });
await page.getByRole('tab', { name: /Requests/ }).click();
await page
  .locator('#requests tbody tr')
  .nth(6)
  .getByRole('button', { name: /Details/ })
  .click();
await page.locator('#details figure img[data-loaded="true"]').nth(2).waitFor();
await page.screenshot({ path: 'docs/dashboard-details.png' });

// A phone's width, the requests of one license with an error status: the filter as the address keeps it.
const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
await phone.goto(`${mock.url}/__admin/ui#tab=requests&licenseId=1234&status=4xx`);
await phone.locator('#filter-active').waitFor();
await phone.locator('#requests tbody tr').nth(1).waitFor();
await phone.waitForTimeout(300);
await phone.screenshot({ path: 'docs/dashboard-phone.png' });
await browser.close();
await mock.close();
console.log('wrote docs/dashboard-requests.png, docs/dashboard-licenses.png, docs/dashboard-faults.png, docs/dashboard-details.png, docs/dashboard-phone.png');
