/**
 * Search analytics through the API, on the file store and on PostgreSQL: searches and events sent
 * over HTTP, figures checked against a brute-force count of what the test itself saw, and the
 * dashboard rendering those numbers in Chromium.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDefinitionStore } from '../../src/definitions/postgres-definition-store.ts';
import { PostgresEventStore } from '../../src/events/postgres-event-store.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { REPO_ROOT, waitFor } from '../support/processes.ts';
import { api, POSTGRES_URL, startServer, type TestServer, testEnv } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

interface Served {
  query: string;
  queryId: string;
  ids: string[];
}

const BACKENDS = [
  { name: 'file store', env: (): Record<string, string> => ({}) },
  { name: 'PostgreSQL', env: (prefix: string): Record<string, string> => ({ DATABASE_URL: POSTGRES_URL, EVENTS_TABLE_PREFIX: prefix }) },
];

describe.each(BACKENDS)('analytics on the $name', (backend) => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;
  const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}_`;
  const served: Served[] = [];
  const acted = new Map<string, Set<string>>(); // `${queryId} ${couponId}` → event types
  const from = new Date(Date.now() - 60_000).toISOString();

  beforeAll(async () => {
    dir = await tempDir('analytics-');
    server = await startServer(testEnv(dir.dir, backend.env(prefix)));
    await server.engine.upsertCoupons(generateCatalogue({ size: 300, seed: 8 }));
    await server.engine.waitForIndexing();
    const queries = ['pizza', 'Pizza ', 'pizzza', 'sushi', 'spa day', 'massage', 'sushi', 'pizza'];
    for (const q of queries) {
      const res = await api(server.url, 'GET', `/v1/search?q=${encodeURIComponent(q)}&limit=5`);
      served.push({ query: res.json.corrected_query ?? q, queryId: res.json.query_id, ids: res.json.results.map((r: { id: string }) => r.id) });
    }
    for (let i = 0; i < 2; i++) {
      const res = await api(server.url, 'GET', '/v1/search?q=Tacos&category=no-such-category&limit=5');
      expect(res.json.results).toEqual([]);
      served.push({ query: 'Tacos', queryId: res.json.query_id, ids: [] });
    }
    // Clicks on some results, a save and a redemption; one click on a coupon the list never showed.
    const events: unknown[] = [];
    const act = (s: Served, position: number, type: string) => {
      events.push({ event_id: randomUUID(), user_id: 'u-1', coupon_id: s.ids[position], type, ts: new Date().toISOString(), query_id: s.queryId, position });
      const key = `${s.queryId} ${s.ids[position]}`;
      acted.set(key, new Set([...(acted.get(key) ?? []), type]));
    };
    act(served[0]!, 0, 'click');
    act(served[0]!, 0, 'click');
    act(served[0]!, 2, 'click');
    act(served[0]!, 2, 'save');
    act(served[3]!, 1, 'click');
    act(served[3]!, 1, 'redeem');
    act(served[4]!, 0, 'click');
    events.push({
      event_id: randomUUID(),
      user_id: 'u-1',
      coupon_id: 'never-shown',
      type: 'click',
      ts: new Date().toISOString(),
      query_id: served[5]!.queryId,
    });
    expect((await api(server.url, 'POST', '/v1/events', { events })).status).toBe(202);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (backend.name === 'PostgreSQL') {
      for (const store of [
        new PostgresEventStore({ url: POSTGRES_URL, tablePrefix: prefix }),
        new PostgresDefinitionStore({ url: POSTGRES_URL, tablePrefix: prefix }),
      ]) {
        await store.drop();
        await store.close();
      }
    }
    await dir?.cleanup();
  });

  const summary = async () => {
    const res = await api(server.url, 'GET', `/v1/analytics/summary?from=${encodeURIComponent(from)}&limit=50`);
    expect(res.status, res.text).toBe(200);
    return res.json;
  };

  it('equals a brute-force count of the searches and events sent', async () => {
    // Served lists are logged off the request path, within a second.
    await waitFor('served lists logged', async () => (await summary()).searches === served.length, 10_000);
    const r = await summary();
    const norm = (q: string) => q.toLowerCase().replace(/\s+/g, ' ').trim();
    const did = (s: Served, type: string) => s.ids.some((id) => acted.get(`${s.queryId} ${id}`)?.has(type));
    const groups = new Map<string, Served[]>();
    for (const s of served) groups.set(norm(s.query), [...(groups.get(norm(s.query)) ?? []), s]);
    const rate = (n: number, of: number) => Math.round((n / of) * 1e4) / 1e4;
    const expected = [...groups]
      .map(([query, ss]) => ({
        query,
        searches: ss.length,
        click_rate: rate(ss.filter((s) => did(s, 'click')).length, ss.length),
        save_rate: rate(ss.filter((s) => did(s, 'save')).length, ss.length),
        redeem_rate: rate(ss.filter((s) => did(s, 'redeem')).length, ss.length),
      }))
      .sort((a, b) => b.searches - a.searches || (a.query < b.query ? -1 : 1));
    expect(r.queries).toEqual(expected);
    expect(expected[0]!.query).toBe('pizza'); // "Pizza ", and "pizzza" as corrected, count as pizza
    expect(r.no_results).toEqual([{ query: 'tacos', searches: 2 }]);
    expect(r.no_clicks).toEqual(expected.filter((q) => q.click_rate === 0 && q.query !== 'tacos').map((q) => ({ query: q.query, searches: q.searches })));
    const positions = new Map<number, { impressions: number; clicks: number }>();
    for (const s of served)
      s.ids.forEach((id, p) => {
        const at = positions.get(p) ?? { impressions: 0, clicks: 0 };
        at.impressions++;
        if (acted.get(`${s.queryId} ${id}`)?.has('click')) at.clicks++;
        positions.set(p, at);
      });
    expect(r.positions).toEqual([...positions].sort((a, b) => a[0] - b[0]).map(([position, p]) => ({ position, ...p, ctr: rate(p.clicks, p.impressions) })));
    const top = r.coupons[0];
    expect(top.clicks).toBe(Math.max(...[...acted.values()].map((t) => (t.has('click') ? 1 : 0))));
    expect(r.days).toEqual([{ day: new Date().toISOString().slice(0, 10), searches: served.length, clicked: served.filter((s) => did(s, 'click')).length }]);
  });

  it('lists queries with no results, and agrees with the served-list log', async () => {
    const res = await api(server.url, 'GET', `/v1/analytics/no-results?from=${encodeURIComponent(from)}`);
    expect(res.json.no_results).toEqual([{ query: 'tacos', searches: 2 }]);
    // The log holds the two empty searches (found nothing at all), and every list the analytics counted.
    const logged: Array<{ queryId: string; items: unknown[] }> = [];
    for await (const list of server.engine.events.servedOutcomes({ since: new Date(from) })) logged.push(list);
    expect(logged.filter((l) => l.items.length === 0)).toHaveLength(2);
    expect(logged.map((l) => l.queryId).sort()).toEqual(served.map((s) => s.queryId).sort());
    const bad = await api(server.url, 'GET', '/v1/analytics/queries?from=2026-12-05T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe('from');
  });

  it.skipIf(!existsSync(CHROMIUM) || backend.name !== 'file store')('the dashboard renders these numbers in Chromium', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
      await page.goto(`${server.url}/dashboard`);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
      const r = await summary();
      expect(await page.locator('[data-figure="searches"]').textContent()).toBe(String(r.searches));
      expect(await page.locator('#queries tbody tr').count()).toBe(r.queries.length);
      expect(await page.locator('#queries tbody tr').first().locator('td').first().textContent()).toBe('pizza');
      expect(await page.locator('#positions svg rect').count()).toBe(r.positions.length);
      expect(await page.locator('#timeline svg circle').count()).toBe(r.days.length);
      expect(await page.locator('#no-results tbody tr td').first().textContent()).toBe('tacos');
      await mkdir(path.join(REPO_ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(REPO_ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
