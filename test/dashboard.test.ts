import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FormData, request } from 'undici';
import type { Browser, Page } from 'playwright-core';
import type { RunningMockServer } from '../src/mock/index.js';
import { describeWithBrowser, launchChromium } from './helpers/browser.js';
import { jpeg } from './helpers/images.js';
import { eventually, sendImage, startTestMock } from './helpers/server.js';

const EVIL = `<img src=x onerror="window.__pwned=(window.__pwned||0)+1"><script>window.__pwned=(window.__pwned||0)+1</script>`;

describeWithBrowser('the dashboard (GET /__admin/ui) in a real browser', () => {
  let browser: Browser;
  let image: Buffer;
  beforeAll(async () => {
    browser = await launchChromium();
    image = await jpeg(160, 120, [40, 140, 90]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The page opened on a mock, with every console error, page error and failed request it had. */
  async function open(mock: RunningMockServer, viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (failed) => problems.push(`request failed: ${failed.url()} ${failed.failure()?.errorText ?? ''}`));
    page.on('dialog', (dialog) => {
      problems.push(`a dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${mock.url}/__admin/ui`);
    return { page, problems, close: () => context.close() };
  }

  const rows = (page: Page) => page.locator('#requests tbody tr');

  it('loads with no console error, and a request made while it is open appears by itself, thumbnails loaded', async () => {
    const mock = await startTestMock();
    const { page, problems, close } = await open(mock);
    await page.locator('#health-status', { hasText: 'ok' }).waitFor();
    await expect(page.locator('#requests-empty').isVisible()).resolves.toBe(true);
    await expect(page.locator('#health-store').textContent()).resolves.toBe('memory');

    const answer = await sendImage(mock.endpoint, image, { includeCroppedImage: 'true' });
    expect(answer.status).toBe(200);
    const row = rows(page).first();
    await row.locator('img.thumb[data-loaded="true"]').nth(1).waitFor({ timeout: 5_000 });
    expect(await rows(page).count()).toBe(1);
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('200');
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe('1234');
    await expect(row.locator('td').nth(7).textContent()).resolves.toBe('miss');
    const sizes = await row.locator('img.thumb').evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).naturalWidth));
    expect(sizes).toHaveLength(2);
    for (const width of sizes) expect(width).toBeGreaterThan(0);

    // The details: parts without the key, the answer's headers, the three images large.
    await row.getByRole('button', { name: /Details of request/ }).click();
    const dialog = page.locator('#details');
    await dialog.locator('figure img[data-loaded="true"]').nth(2).waitFor();
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('credits-remaining');
    expect(text).toContain('multipart/mixed');
    expect(text).toContain('includeCroppedImage');
    expect(text).not.toContain('5678');
    await page.keyboard.press('Escape');
    await expect(dialog.isVisible()).resolves.toBe(false);
    expect(problems).toEqual([]);
    await close();
  });

  it('sets credits: the next request gets the Credits-Remaining set in the page', async () => {
    const mock = await startTestMock();
    const { page, problems, close } = await open(mock);
    const credits = page.getByLabel('Credits of license 1234');
    await credits.fill('7');
    await credits.press('Enter');
    await page.locator('#message', { hasText: 'License 1234 has 7 credits now.' }).waitFor();
    const answer = await sendImage(mock.endpoint, image);
    expect(answer.headers['credits-remaining']).toBe('6');
    await page.locator('#licenses tbody tr', { hasText: '1234' }).locator('td').first().filter({ hasText: '6' }).waitFor();
    expect(problems).toEqual([]);
    await close();
  });

  it('arms a 500 for the next request: that request is a 500, then the fault is gone and the next is a 200', async () => {
    const mock = await startTestMock();
    const { page, problems, close } = await open(mock);
    await page.getByLabel('Fault', { exact: true }).selectOption('500');
    await page.getByLabel('For', { exact: true }).selectOption('1234');
    await page.getByRole('button', { name: 'Arm' }).click();
    await page.locator('#faults tbody tr', { hasText: '500 error' }).waitFor();
    expect((await sendImage(mock.endpoint, image)).status).toBe(500);
    await page.locator('#faults-empty').waitFor({ state: 'visible' });
    expect(await page.locator('#faults tbody tr').count()).toBe(0);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
    await page.locator('#requests tbody tr').nth(1).waitFor();
    await expect(rows(page).nth(1).locator('.badge').textContent()).resolves.toBe('500');
    expect(problems).toEqual([]);
    await close();
  });

  it('is usable with the keyboard alone: Tab reaches every control, a fault is armed and a row opened without a mouse', async () => {
    const mock = await startTestMock();
    await sendImage(mock.endpoint, image);
    const { page, problems, close } = await open(mock);
    await rows(page).first().waitFor();

    // Every enabled control, and each radio group once.
    const controls = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea')]
        .filter((node) => !(node as HTMLInputElement).disabled && node.offsetParent !== null && !node.closest('dialog'))
        .map((node) =>
          (node as HTMLInputElement).type === 'radio'
            ? `radio:${(node as HTMLInputElement).name}`
            : node.id || node.getAttribute('aria-label') || node.textContent?.trim() || '',
        ),
    );
    const reached = new Set<string>();
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      reached.add(
        await page.evaluate(() => {
          const node = document.activeElement as HTMLInputElement | null;
          if (!node) return '';
          return node.type === 'radio' ? `radio:${node.name}` : node.id || node.getAttribute('aria-label') || node.textContent?.trim() || '';
        }),
      );
    }
    const missed = controls.filter((control) => !reached.has(control));
    expect(missed).toEqual([]);

    // Arm a latency fault with the keyboard: choose the kind, then the time field opens.
    await page.focus('#fault-type');
    await page.keyboard.press('ArrowDown'); // 500 error -> Latency
    await expect(page.locator('#fault-latency').isDisabled()).resolves.toBe(false);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('5');
    await page.keyboard.press('Enter'); // submits the form
    await page.locator('#faults tbody tr', { hasText: 'latency 5 ms' }).waitFor();

    // A fault by chance with a seed, to replay a run: the list shows the seed back.
    await page.check('#fault-when-probability');
    await page.fill('#fault-probability', '0.3');
    await page.fill('#fault-seed', '42');
    await page.getByRole('button', { name: 'Arm' }).click();
    await page.locator('#faults tbody tr', { hasText: 'p = 0.3, seed 42' }).waitFor();

    // Open a row's details and close them; the focus comes back to the button.
    await rows(page)
      .first()
      .getByRole('button', { name: /Details/ })
      .focus();
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('details-close');
    await page.keyboard.press('Escape');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toMatch(/^Details of request/);
    expect(problems).toEqual([]);
    await close();
  });

  it('shows hostile input as text: script and img onerror in every field, a file that is not an image, odd names, binary values', async () => {
    const mock = await startTestMock({ dashboard: { keepImages: 10, imageBytes: 400_000 } });
    const { page, problems, close } = await open(mock);
    // A license whose id is markup.
    const put = await request(`${mock.url}/__admin/licenses/${encodeURIComponent(EVIL)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: 'k', credits: 3 }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    // Markup in the license header, every field, a part name, a filename; the image is HTML, not an image.
    const form = new FormData();
    form.append('licenseId', EVIL);
    form.append('apiKey', EVIL);
    form.append(EVIL, EVIL);
    form.append('binary', new Blob([Buffer.from([0, 255, 254, 60, 115, 99, 62, 0])]), 'bin.dat');
    form.append('image', new Blob([Buffer.from(EVIL)], { type: 'text/html' }), `${EVIL}.jpg`);
    const sent = await request(mock.endpoint, { method: 'POST', body: form, headers: { 'License-Id': EVIL, 'X-Beia-Mock-Scenario': undefined } });
    await sent.body.dump();
    // A real image too large to keep (over a quarter of dashboard.imageBytes), and a valid one.
    const large = await sharp(randomBytes(500 * 400 * 3), { raw: { width: 500, height: 400, channels: 3 } })
      .png()
      .toBuffer();
    expect(large.length).toBeGreaterThan(100_000);
    await sendImage(mock.endpoint, large);
    await sendImage(mock.endpoint, image);

    await rows(page).nth(2).waitFor();
    const hostile = rows(page).nth(2);
    await expect(hostile.textContent()).resolves.toContain('<img src=x onerror=');
    await hostile.locator('.placeholder', { hasText: 'not an image' }).waitFor();
    await rows(page).nth(1).locator('.placeholder', { hasText: 'not kept' }).waitFor();
    await rows(page).nth(0).locator('img.thumb[data-loaded="true"]').nth(1).waitFor();
    await page.locator('#licenses tbody th', { hasText: '<script>' }).waitFor();
    // The fault form's license list has it too, as text.
    await expect(page.locator('#fault-license option', { hasText: '<img' }).count()).resolves.toBe(1);
    await hostile.getByRole('button', { name: /Details/ }).click();
    await page.locator('#details figure .placeholder').first().waitFor();
    const details = (await page.locator('#details').textContent()) ?? '';
    expect(details).toContain('<img src=x onerror=');
    expect(details).toContain('.jpg');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // No element came from the input: the only img elements are the page's own thumbnails and views.
    expect(await page.locator('img[onerror], script:not([src])').count()).toBe(0);
    expect(problems).toEqual([]);
    await close();
  });

  it('asks for the admin token when the mock needs one, keeps it for the tab, and refuses a wrong one', async () => {
    const mock = await startTestMock({}, { adminToken: 'dash-token' });
    await sendImage(mock.endpoint, image);
    const { page, problems, close } = await open(mock);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    // It says where the token is printed, in a container too.
    expect(await page.locator('#token-form').textContent()).toContain('docker logs <container> | grep Bearer');
    await page.getByLabel('Token').fill('wrong');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.locator('#message', { hasText: 'That token was refused' }).waitFor();
    await page.getByLabel('Token').fill('dash-token');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await rows(page).first().locator('img.thumb[data-loaded="true"]').nth(1).waitFor();
    await expect(page.locator('#token-form').isHidden()).resolves.toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('beia-mock-admin-token'))).toBe('dash-token');
    // The two 401s of the refused token are the only errors the browser reported.
    expect(problems.filter((problem) => !problem.includes('401'))).toEqual([]);
    await close();
  });

  it('reads at a phone width: nothing runs off the side; wide tables scroll inside their panel', async () => {
    const mock = await startTestMock();
    await sendImage(mock.endpoint, image);
    const { page, problems, close } = await open(mock, { width: 390, height: 844 });
    await rows(page).first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await close();
  });

  it('does not write a log line for each of its polls', async () => {
    const lines: string[] = [];
    const mock = await startTestMock({}, { logger: (line) => lines.push(line.path) });
    const { page, close } = await open(mock);
    await page.waitForTimeout(2_500);
    await close();
    await eventually(() => true);
    expect(lines.filter((path) => path.startsWith('/__admin/ui'))).toEqual([]);
  });
});

it('the dashboard page and its files are served without a token and with a strict Content-Security-Policy', async () => {
  const mock = await startTestMock({}, { adminToken: 'secret' });
  for (const path of ['/__admin/ui', '/__admin/ui/dashboard.js', '/__admin/ui/dashboard.css']) {
    const res = await request(`${mock.url}${path}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    await res.body.dump();
  }
  const state = await request(`${mock.url}/__admin/ui/state`);
  expect(state.statusCode).toBe(401);
  await state.body.dump();
  const script = await (await request(`${mock.url}/__admin/ui/dashboard.js`)).body.text();
  // Input reaches the page as text only.
  expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
});
