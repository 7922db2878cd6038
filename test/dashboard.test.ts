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
  /** Shows one of the page's views (Requests, Licenses, Faults) with a click on its tab. */
  const show = (page: Page, view: 'Requests' | 'Licenses' | 'Faults') => page.getByRole('tab', { name: new RegExp(`^${view}`) }).click();

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
    await show(page, 'Licenses');
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
    await show(page, 'Faults');
    await page.getByLabel('Fault', { exact: true }).selectOption('500');
    await page.getByLabel('For', { exact: true }).selectOption('1234');
    await page.getByRole('button', { name: 'Arm' }).click();
    await page.locator('#faults tbody tr', { hasText: '500 error' }).waitFor();
    expect((await sendImage(mock.endpoint, image)).status).toBe(500);
    await page.locator('#faults-empty').waitFor({ state: 'visible' });
    expect(await page.locator('#faults tbody tr').count()).toBe(0);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
    await show(page, 'Requests');
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

    // Every enabled control of each view, and each radio group once: Tab goes through a view, the
    // arrow keys go from tab to tab (one stop for Tab, as the ARIA tabs pattern has it).
    const name = () =>
      page.evaluate(() => {
        const node = document.activeElement as HTMLInputElement | null;
        if (!node) return '';
        return node.type === 'radio' ? `radio:${node.name}` : node.id || node.getAttribute('aria-label') || node.textContent?.trim() || '';
      });
    const controls = new Set<string>();
    const reached = new Set<string>();
    for (const view of ['requests', 'licenses', 'faults']) {
      await expect(page.locator(`#tab-${view}`).getAttribute('aria-selected')).resolves.toBe('true');
      for (const control of await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea')]
          .filter((node) => !(node as HTMLInputElement).disabled && node.offsetParent !== null && !node.closest('dialog'))
          .map((node) =>
            (node as HTMLInputElement).type === 'radio'
              ? `radio:${(node as HTMLInputElement).name}`
              : node.id || node.getAttribute('aria-label') || node.textContent?.trim() || '',
          ),
      ))
        controls.add(control);
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        reached.add(await name());
      }
      // To the next view: Tab to the tab list's one stop, then the right arrow.
      for (let i = 0; i < 60 && (await name()) !== `tab-${view}`; i++) await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowRight');
      reached.add(await name());
    }
    expect([...controls]).toEqual(
      expect.arrayContaining([
        'tab-licenses',
        'filter-license',
        'filter-status',
        'reset-all',
        "Set license 1234's credits",
        'Show the requests of license 1234',
        'fault-type',
      ]),
    );
    const missed = [...controls].filter((control) => !reached.has(control));
    expect(missed).toEqual([]);
    // Round the list: from Faults the right arrow comes back to Requests; End and Home go to the ends.
    await expect(name()).resolves.toBe('tab-requests');
    await page.keyboard.press('End');
    await expect(name()).resolves.toBe('tab-faults');
    await expect(page.locator('#panel-faults').isVisible()).resolves.toBe(true);
    await expect(page.locator('#panel-requests').isHidden()).resolves.toBe(true);

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
    await page.focus('#tab-faults');
    await page.keyboard.press('Home');
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
    await show(page, 'Licenses');
    await page.locator('#licenses tbody th', { hasText: '<script>' }).waitFor();
    // The fault form's license list has it too, as text.
    await expect(page.locator('#fault-license option', { hasText: '<img' }).count()).resolves.toBe(1);
    // The filter's list of licenses, and the filter itself, take it as text too.
    await expect(page.locator('#filter-licenses option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).resolves.toContain(EVIL);
    await page.getByRole('button', { name: `Show the requests of license ${EVIL}` }).click();
    await page.locator('#filter-text', { hasText: '<img src=x onerror=' }).waitFor();
    await expect(rows(page).count()).resolves.toBe(1);
    await rows(page)
      .first()
      .getByRole('button', { name: /Details/ })
      .click();
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
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.fill('#filter-license', '1234');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#filter-active').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    for (const view of ['Licenses', 'Faults'] as const) {
      await show(page, view);
      await page.locator(`#panel-${view.toLowerCase()}`).waitFor();
      expect(await overflow(), view).toBeLessThanOrEqual(0);
    }
    expect(problems).toEqual([]);
    await close();
  });

  it('at 1280 px, licenses and faults are one click away above 50 requests, and the licenses table fits, its Set buttons in view', async () => {
    const mock = await startTestMock({
      licenses: [
        { licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1', '::1', '10.0.0.0/8', '192.168.0.0/16', '2001:db8:85a3::/48'] },
        { licenseId: 'ci-run-2024-11-28-conformance-license-0042', apiKey: 'k', credits: 123456789 },
      ],
    });
    for (let i = 0; i < 50; i++) await sendImage(mock.endpoint, image, i % 10 === 0 ? {} : { apiKey: 'wrong' });
    const { page, problems, close } = await open(mock);
    await rows(page).nth(49).waitFor();
    const top = async (selector: string) => (await page.locator(selector).boundingBox())!.y;
    // The tabs are above the requests, on the first screen however many rows there are.
    expect(await top('#tab-licenses')).toBeLessThan(800);
    expect(await top('#tab-faults')).toBeLessThan(800);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(2_000);

    await show(page, 'Licenses');
    expect(await top('#licenses-title')).toBeLessThan(800);
    await page.locator('#licenses tbody tr').nth(1).waitFor();
    const wrap = page.locator('#licenses').locator('xpath=..');
    expect(await wrap.evaluate((node) => node.scrollWidth - node.clientWidth)).toBeLessThanOrEqual(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const sets = page.locator('#licenses').getByRole('button', { name: /^Set license/ });
    expect(await sets.count()).toBe(4);
    for (const set of await sets.all()) {
      const box = (await set.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(1280 - 20);
      expect(box.y + box.height).toBeLessThan(800);
    }

    await show(page, 'Faults');
    expect(await top('#faults-title')).toBeLessThan(800);
    expect(await top('#arm-fault button[type="submit"]')).toBeLessThan(800);
    // The view chosen is in the address: a reload keeps it.
    expect(new URL(page.url()).hash).toBe('#tab=faults');
    await page.reload();
    await page.locator('#panel-faults').waitFor();
    await expect(page.locator('#tab-faults').getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.locator('#panel-requests').isHidden()).resolves.toBe(true);
    expect(problems).toEqual([]);
    await close();
  });

  it('filters the requests by license and by status on the mock, says so, clears it, and keeps it over a reload', async () => {
    const mock = await startTestMock({
      licenses: [
        { licenseId: '1234', apiKey: '5678' },
        { licenseId: 'other', apiKey: 'k2', credits: 10 },
      ],
    });
    const mine = { licenseId: 'other', apiKey: 'k2' };
    await sendImage(mock.endpoint, image);
    await sendImage(mock.endpoint, image, mine);
    await sendImage(mock.endpoint, image, { apiKey: 'wrong' });
    await sendImage(mock.endpoint, image, { ...mine, apiKey: 'wrong' });
    await sendImage(mock.endpoint, image);
    await sendImage(mock.endpoint, image, mine);
    const { page, problems, close } = await open(mock);
    await rows(page).nth(5).waitFor();
    const shown = async () => (await rows(page).locator('td:nth-child(4)').allTextContents()).join(' ');
    const statuses = async () => (await rows(page).locator('.badge').allTextContents()).join(' ');
    const rowsAre = (count: number) => eventually(async () => (await rows(page).count()) === count);

    // By license: only that license's rows.
    await page.getByRole('combobox', { name: 'License', exact: true }).fill('other');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#filter-text', { hasText: 'license other' }).waitFor();
    await rowsAre(3);
    expect(await shown()).toBe('other other other');
    // And by status class: its 4xx only; a new request of each license: only the other's appears.
    await page.getByRole('combobox', { name: 'Status', exact: true }).fill('4xx');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#filter-text', { hasText: 'status 4xx' }).waitFor();
    await rowsAre(1);
    await sendImage(mock.endpoint, image, { apiKey: 'wrong' });
    await sendImage(mock.endpoint, image, { ...mine, apiKey: 'wrong' });
    await rowsAre(2);
    expect(await shown()).toBe('other other');
    expect(await statuses()).toBe('401 401');
    await expect(page.locator('#requests-count').textContent()).resolves.toBe('the newest 2 that match');

    // The address keeps it: a reload shows the same rows and the same filter.
    expect(new URL(page.url()).hash).toBe('#tab=requests&licenseId=other&status=4xx');
    await page.reload();
    await page.locator('#filter-text', { hasText: 'license other, with status 4xx' }).waitFor();
    await rowsAre(2);
    await expect(page.locator('#filter-status').inputValue()).resolves.toBe('4xx');

    // An exact status; then one the mock refuses: its message says what it accepts, the filter stays.
    await page.fill('#filter-status', '200');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#filter-text', { hasText: 'status 200' }).waitFor();
    await rowsAre(2);
    expect(await statuses()).toBe('200 200');
    await page.fill('#filter-status', '2x');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#message.error', { hasText: 'status is "2x"; expected a class from 1xx to 5xx (e.g. 4xx) or an exact status' }).waitFor();
    await expect(page.locator('#filter-text').textContent()).resolves.toContain('status 200');
    const refused = await request(`${mock.url}/__admin/ui/state?licenseId=other&status=2x`);
    expect(refused.statusCode).toBe(400);
    expect(((await refused.body.json()) as { error: { code: string } }).error.code).toBe('admin_invalid_request');

    // Cleared: every row again, no filter said, the fields empty.
    await page.getByRole('button', { name: 'Clear filter' }).click();
    await rowsAre(8);
    await expect(page.locator('#filter-active').isHidden()).resolves.toBe(true);
    await expect(page.locator('#filter-license').inputValue()).resolves.toBe('');
    expect(new URL(page.url()).hash).toBe('#tab=requests');
    // The one refusal is the only error the browser reported.
    expect(problems.filter((problem) => !problem.includes('400'))).toEqual([]);
    await close();
  });

  it('shows the credits of the first license in the header strip, or of the one the filter names, updated after each request', async () => {
    const mock = await startTestMock({
      licenses: [
        { licenseId: '1234', apiKey: '5678', credits: 100 },
        { licenseId: 'other', apiKey: 'k2', credits: 10 },
      ],
    });
    const { page, problems, close } = await open(mock);
    const credits = page.locator('#health-credits');
    await credits.filter({ hasText: /^100$/ }).waitFor();
    await expect(page.locator('#health-credits-of').textContent()).resolves.toBe('1234');
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
    await credits.filter({ hasText: /^99$/ }).waitFor();

    await page.fill('#filter-license', 'other');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.locator('#health-credits-of', { hasText: 'other' }).waitFor();
    await credits.filter({ hasText: /^10$/ }).waitFor();
    expect((await sendImage(mock.endpoint, image, { licenseId: 'other', apiKey: 'k2' })).status).toBe(200);
    await credits.filter({ hasText: /^9$/ }).waitFor();
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

it('filters the requests of a poll on the server, by license and by status, and says what it accepts for a bad value', async () => {
  const mock = await startTestMock({
    licenses: [
      { licenseId: '1234', apiKey: '5678' },
      { licenseId: 'other', apiKey: 'k2', credits: 3 },
    ],
  });
  const image = await jpeg(32, 24, [10, 20, 30]);
  await sendImage(mock.endpoint, image);
  await sendImage(mock.endpoint, image, { apiKey: 'wrong' });
  await sendImage(mock.endpoint, image, { licenseId: 'other', apiKey: 'k2' });
  interface State {
    journal: { licenseId: string; status: number }[];
    license: { licenseId: string; credits: number } | null;
    filter: Record<string, string>;
    error: { code: string; message: string };
  }
  const state = async (query: string) => {
    const res = await request(`${mock.url}/__admin/ui/state${query}`);
    return { status: res.statusCode, body: (await res.body.json()) as State };
  };
  const rowsOf = (body: State) => body.journal.map((e) => `${e.licenseId} ${e.status}`);
  expect(rowsOf((await state('')).body)).toEqual(['1234 200', '1234 401', 'other 200']);
  expect((await state('')).body.license).toMatchObject({ licenseId: '1234' });
  const other = await state('?licenseId=other');
  expect(rowsOf(other.body)).toEqual(['other 200']);
  expect(other.body.filter).toEqual({ licenseId: 'other' });
  expect(other.body.license).toMatchObject({ licenseId: 'other', credits: 2 });
  expect(rowsOf((await state('?status=4xx')).body)).toEqual(['1234 401']);
  expect(rowsOf((await state('?status=200&licenseId=1234')).body)).toEqual(['1234 200']);
  expect(rowsOf((await state('?licenseId=nobody')).body)).toEqual([]);
  // The limit counts the matching rows, not the rows before the filter.
  expect(rowsOf((await state('?status=2xx&limit=1')).body)).toEqual(['other 200']);
  for (const [query, says] of [
    ['?status=abc', 'expected a class from 1xx to 5xx'],
    ['?status=600', 'or an exact status from 100 to 599'],
    ['?status=', 'expected a class'],
    ['?licenseId=', 'licenseId is empty'],
    [`?licenseId=${'x'.repeat(300)}`, 'expected a license id of 1 to 262 characters'],
  ] as const) {
    const bad = await state(query);
    expect(bad.status, query).toBe(400);
    expect(bad.body.error.code).toBe('admin_invalid_request');
    expect(bad.body.error.message).toContain(says);
  }
});
