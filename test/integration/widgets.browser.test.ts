/**
 * The widgets and the demo page in real headless Chromium (Debian's chromium + playwright-core)
 * against the real engine: instant search, similar coupons on click, the "for you" feed,
 * keyboard use, labels and contrast, a widget embedded on a page of another origin whose click
 * reaches the event store, and the error state when the API cannot answer. Screenshots go to
 * test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { simulateShoppers } from '../../src/sample/shoppers.ts';
import { REPO_ROOT, waitFor } from '../support/processes.ts';
import { makeCoupon } from '../support/coupons.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { tempDir } from '../support/tmp.ts';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

/** A page server on another origin (another port): the marketplace embedding the widgets. */
async function partnerSite(): Promise<{ server: Server; origin: string; pages: Map<string, string> }> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const pathname = new URL(req.url!, 'http://x').pathname;
    if (pathname === '/favicon.ico') return void res.writeHead(204).end();
    const html = pages.get(pathname);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pages };
}

/** Contrast ratio of two CSS rgb() colours (WCAG 2 relative luminance). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = c
      .match(/\d+(\.\d+)?/g)!
      .slice(0, 3)
      .map((x) => Number(x) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe.skipIf(!existsSync(CHROMIUM))(`widgets and demo in Chromium (needs ${CHROMIUM}; .ci/run installs Debian's chromium)`, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer;
  let partner: Awaited<ReturnType<typeof partnerSite>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('widgets-'));
    await mkdir(ARTIFACTS, { recursive: true });
    partner = await partnerSite();
    server = await startServer(testEnv(path.join(dir, 'data'), { CORS_ORIGINS: partner.origin }));
    const coupons = generateCatalogue({ size: 400 });
    await server.engine.upsertCoupons(coupons);
    await server.engine.queue.drained();
    await server.engine.recordEvents(simulateShoppers(coupons, { shoppers: 20, sessions: 4, end: new Date() }).events);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => partner?.server.close(r));
    await server?.close();
    await cleanup?.();
  });

  it('demo: typing "half price pizza" shows a pizza coupon', async () => {
    await page.goto(`${server.url}/demo`);
    await page.getByLabel('Search coupons').fill('half price pizza');
    const cards = page.locator('#search .card');
    await expect.poll(() => cards.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const titles = await cards.locator('.title').allTextContents();
    expect(titles.slice(0, 3).some((t) => /pizza/i.test(t))).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-search.png'), fullPage: true });
  });

  it("demo: clicking a result shows coupons similar to it; the feed shows a sample shopper's coupons", async () => {
    const first = page.locator('#search .card').first();
    const title = (await first.locator('.title').textContent())!;
    const id = await first.getAttribute('data-id');
    await first.click();
    await expect.poll(() => page.locator('#similar-h').textContent()).toContain(title);
    await expect.poll(() => page.locator('#similar .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const similarIds = await page.locator('#similar .card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-id')));
    expect(similarIds).not.toContain(id);
    await expect.poll(() => page.locator('#foryou .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-similar.png'), fullPage: true });
  });

  it('demo: explain details are there on demand', async () => {
    await page.locator('#explain').check();
    await expect.poll(() => page.locator('#search details').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.locator('#search details summary').first().click();
    expect(await page.locator('#search details pre').first().textContent()).toContain('"fused"');
    await page.locator('#explain').uncheck();
  });

  it('autocomplete is an ARIA combobox: arrows move through suggestions, Enter searches the chosen one, Escape closes', async () => {
    await page.goto(`${server.url}/demo`);
    const input = page.getByRole('combobox', { name: 'Search coupons' });
    await input.pressSequentially('piz', { delay: 30 });
    const options = page.locator('#search [role=option]');
    await expect.poll(() => options.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await input.getAttribute('aria-expanded')).toBe('true');
    const texts = await options.allTextContents();
    expect(texts.some((t) => /pizza/i.test(t))).toBe(true);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await input.getAttribute('aria-activedescendant')).toBe('suggestion-1');
    expect(await options.nth(1).getAttribute('aria-selected')).toBe('true');
    const chosen = (await options.nth(1).textContent())!;
    await page.keyboard.press('Enter');
    await expect.poll(() => input.inputValue()).not.toBe('piz');
    expect(chosen.startsWith(await input.inputValue())).toBe(true);
    expect(await input.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => page.locator('#search .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await input.fill('');
    await input.pressSequentially('sus', { delay: 30 });
    await expect.poll(() => input.getAttribute('aria-expanded'), { timeout: 15_000 }).toBe('true');
    await page.keyboard.press('Escape');
    expect(await input.getAttribute('aria-expanded')).toBe('false');
    expect(await options.count()).toBe(0);
  });

  it('filter menus show facet counts from the search, and titles mark the matched words safely', async () => {
    await page.goto(`${server.url}/demo`);
    await page.getByLabel('Search coupons').fill('pizza');
    await expect.poll(() => page.locator('#search .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const res = (await api(server.url, 'GET', '/v1/search?q=pizza&limit=6&facets=category,discount')).json;
    const menu = async (name: string) =>
      page.evaluate((n) => Array.from(document.querySelector('#search')!.shadowRoot!.querySelectorAll(`select[name=${n}] option`), (o) => o.textContent), name);
    await expect
      .poll(() => menu('category'), { timeout: 15_000 })
      .toContain(`food (${res.facets.category.find((v: { value: string }) => v.value === 'food').count})`);
    const discounts = await menu('min_discount');
    for (const v of res.facets.discount as Array<{ value: string; count: number }>) expect(discounts).toContain(`${v.value}% (${v.count})`);
    const marks = await page.evaluate(() => Array.from(document.querySelector('#search')!.shadowRoot!.querySelectorAll('.title mark'), (m) => m.innerHTML));
    expect(marks.length).toBeGreaterThan(0);
    for (const m of marks) expect(m.toLowerCase()).toMatch(/^pizzas?$/);
    // A title with markup is shown as text, marked around the match only.
    const hostile = { ...makeCoupon('xss-1', { title: '<img src=x onerror="window.pwned=1"> pizza <b>deal</b>', categories: ['food'] }) };
    await api(server.url, 'PUT', '/v1/coupons/xss-1?wait=true', hostile);
    await page.getByLabel('Search coupons').fill('pizza deal onerror');
    await expect
      .poll(() => page.evaluate(() => document.querySelector('#search')!.shadowRoot!.querySelector('[data-id="xss-1"] .title')?.textContent), {
        timeout: 15_000,
      })
      .toBe(hostile.title);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(
      await page.evaluate(
        () => document.querySelector('#search')!.shadowRoot!.querySelectorAll('[data-id="xss-1"] .title img, [data-id="xss-1"] .title b').length,
      ),
    ).toBe(0);
  });

  it('works from the keyboard, labels every control and keeps text contrast at 4.5:1 or more', async () => {
    await page.goto(`${server.url}/demo`);
    const input = page.getByLabel('Search coupons');
    await input.fill('sushi');
    await expect.poll(() => page.locator('#search .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await input.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab'); // category, discount, distance, first card
    const focused = await page.evaluate(() => document.querySelector('#search')!.shadowRoot!.activeElement?.className);
    expect(focused).toBe('card');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#similar-section').isVisible()).toBe(true);

    const unlabelled = await page.evaluate(() => {
      const roots: Array<Document | ShadowRoot> = [
        document,
        ...Array.from(document.querySelectorAll('coupon-search, coupon-similar, coupon-for-you'), (e) => e.shadowRoot!),
      ];
      return roots
        .flatMap((r) => Array.from(r.querySelectorAll('input, select, button')))
        .filter(
          (el) =>
            !el.closest('label') &&
            !el.getAttribute('aria-label') &&
            !(el.id && document.querySelector(`label[for="${el.id}"]`)) &&
            !(el.textContent ?? '').trim(),
        )
        .map((el) => el.outerHTML.slice(0, 80));
    });
    expect(unlabelled).toEqual([]);

    const colours = await page.evaluate(() => {
      const card = document.querySelector('#search')!.shadowRoot!.querySelector('.card')!;
      const style = (sel: string) => getComputedStyle(card.querySelector(sel)!);
      return {
        card: getComputedStyle(card).backgroundColor,
        title: style('.title').color,
        meta: style('.meta').color,
        badge: [style('.discount').color, style('.discount').backgroundColor],
      };
    });
    expect(contrast(colours.title, colours.card)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colours.meta, colours.card)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colours.badge[0]!, colours.badge[1]!)).toBeGreaterThanOrEqual(4.5);
  });

  it('renders on a page of another origin, and its click reaches the event store', async () => {
    const seed = (await api(server.url, 'GET', '/v1/search?q=pizza&limit=1')).json.results[0].id;
    partner.pages.set(
      '/shop',
      `<!doctype html><html lang="en"><body><h1>Partner shop</h1>
      <script type="module" src="${server.url}/widgets/v1.js"></script>
      <coupon-similar api="${server.url}" coupon-id="${seed}" user-id="partner-shopper" limit="3" style="--coupon-accent:#8a1538"></coupon-similar></body></html>`,
    );
    const other = await browser.newPage();
    try {
      const failures: string[] = [];
      other.on('console', (m) => m.type() === 'error' && failures.push(m.text()));
      await other.goto(`${partner.origin}/shop`);
      const card = other.locator('coupon-similar .card').first();
      await expect.poll(() => other.locator('coupon-similar .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
      const clicked = await card.evaluate((el) => el.getAttribute('data-i'));
      expect(clicked).toBe('0');
      await card.click();
      // The batch is sent within 2 s (or at once on page hide).
      const affinity = await waitFor(
        'the click in the event store',
        async () => {
          const a = await server.engine.events.userAffinity('partner-shopper');
          return a.recent.length > 0 && a;
        },
        15_000,
      );
      const similarIds = (await api(server.url, 'GET', `/v1/coupons/${seed}/similar?limit=3`)).json.results.map((r: { id: string }) => r.id);
      expect(similarIds).toContain(affinity.recent[0]);
      await other.screenshot({ path: path.join(ARTIFACTS, 'partner-widget.png') });
      expect(failures).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('shows the error state, not a blank, when the API fails or is unreachable', async () => {
    partner.pages.set(
      '/broken',
      `<!doctype html><html lang="en"><body>
      <script type="module" src="${server.url}/widgets/v1.js"></script>
      <coupon-similar id="missing" api="${server.url}" coupon-id="no-such-coupon"></coupon-similar>
      <coupon-for-you id="down" api="http://127.0.0.1:9" user-id="u1"></coupon-for-you></body></html>`,
    );
    const other = await browser.newPage();
    try {
      await other.goto(`${partner.origin}/broken`);
      for (const id of ['missing', 'down']) {
        const alert = other.locator(`#${id} [role=alert]`);
        await expect.poll(() => alert.count(), { timeout: 15_000 }).toBe(1);
        expect(await alert.textContent()).toContain('Could not load coupons.');
        expect(await other.locator(`#${id} button`, { hasText: 'Retry' }).count()).toBe(1);
      }
      expect(await other.locator('#missing [role=alert]').textContent()).toContain('no-such-coupon');
      await other.screenshot({ path: path.join(ARTIFACTS, 'widget-error.png') });
    } finally {
      await other.close();
    }
  });

  it('answers CORS only for the configured origins', async () => {
    const allowed = await fetch(`${server.url}/v1/search?q=pizza`, { headers: { origin: partner.origin } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(partner.origin);
    const other = await fetch(`${server.url}/v1/search?q=pizza`, { headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${server.url}/v1/events`, {
      method: 'OPTIONS',
      headers: { origin: partner.origin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });
});
