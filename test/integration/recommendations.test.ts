/**
 * "For you" feeds and behavioural similar coupons with the trained model in models/recommender:
 * shoppers' events refresh their vectors, feeds follow their taste and never repeat what they
 * redeemed or dismissed, strangers get regional popularity, new coupons reach feeds by content.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import { haversineKm } from '../../src/domain/geo.ts';
import { generateCatalogue, SAMPLE_CITIES } from '../../src/sample/catalogue.ts';
import { simulateShoppers } from '../../src/sample/shoppers.ts';
import { REPO_ROOT } from '../support/processes.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { followedTheVisit, tasteShiftFeeds } from '../support/taste-shift.ts';
import { tempDir } from '../support/tmp.ts';

describe('recommendations with the trained two-tower model', () => {
  let server: TestServer;
  let cleanup: () => Promise<void>;
  const catalogue = generateCatalogue({ size: 2400, seed: 42 });
  const indexed = catalogue.slice(0, 900);
  const { shoppers, events } = simulateShoppers(catalogue, { shoppers: 400, end: new Date() });
  const shopper = shoppers[0]!;

  beforeAll(async () => {
    const t = await tempDir('recommend-');
    cleanup = t.cleanup;
    server = await startServer(testEnv(t.dir, { RECOMMENDER_MODEL_DIR: path.join(REPO_ROOT, 'models/recommender') }));
    await server.engine.upsertCoupons(indexed);
    await server.engine.queue.drained();
    const known = new Set(indexed.map((c) => c.id));
    const mine = events.filter((e) => known.has(e.coupon_id) && Number(e.user_id.slice(-4)) <= 60);
    for (let i = 0; i < mine.length; i += 1000) expect((await api(server.url, 'POST', '/v1/events', { events: mine.slice(i, i + 1000) })).status).toBe(202);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  type Result = { id: string; coupon: Coupon; explain?: Record<string, { rank: number }> };

  it('loads the model and reports it ready', async () => {
    const ready = await api(server.url, 'GET', '/readyz');
    expect(ready.json.checks.recommender).toMatchObject({ ok: true, detail: expect.stringMatching(/^two-tower /) });
    expect((await server.engine.store.getUsers([shopper.id])).get(shopper.id)).toHaveLength(64);
  });

  it("follows a shopper's taste and never shows what they redeemed or dismissed", async () => {
    const res = await api(server.url, 'GET', `/v1/users/${shopper.id}/recommendations?limit=10&explain=true`);
    expect(res.status).toBe(200);
    const results = res.json.results as Result[];
    expect(results.length).toBe(10);
    const liked = results.filter((r) => r.coupon.categories.some((c) => shopper.likes.includes(c))).length;
    expect(liked, `likes ${shopper.likes}: ${results.map((r) => r.coupon.categories[0])}`).toBeGreaterThanOrEqual(6);
    const excluded = new Set(events.filter((e) => e.user_id === shopper.id && (e.type === 'redeem' || e.type === 'dismiss')).map((e) => e.coupon_id));
    expect(results.filter((r) => excluded.has(r.id))).toEqual([]);
    expect(results[0]!.explain!.behavior!.rank).toBeGreaterThan(0);
    const now = Date.now();
    for (const r of results)
      expect(r.coupon.status === 'active' && Date.parse(r.coupon.valid_until) > now && Date.parse(r.coupon.valid_from) <= now).toBe(true);
  });

  it("moves a shopper's feed towards what they did in the last few interactions when their taste shifts during a visit", async () => {
    // Simulated shoppers with no history: 8 clicks on one category over the past weeks, then, in
    // one visit, 3 clicks on another. The feed should follow the visit, not the weeks' majority.
    const shifts = await tasteShiftFeeds(server.url, indexed, 'taste-shift');
    expect(followedTheVisit(shifts), JSON.stringify(shifts)).toBeGreaterThanOrEqual(shifts.length - 1);
  });

  it('gives a stranger regional popularity near their location', async () => {
    const city = SAMPLE_CITIES[0];
    const res = await api(server.url, 'GET', `/v1/users/stranger-1/recommendations?lat=${city.lat}&lon=${city.lon}&limit=10&explain=true`);
    expect(res.status).toBe(200);
    const results = res.json.results as Result[];
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.explain!.popularity).toBeDefined();
      expect(Math.min(...r.coupon.locations.map((p) => haversineKm(p, city)))).toBeLessThanOrEqual(50);
    }
  });

  it("uses a stranger's recent query as context beside popularity", async () => {
    const res = await api(server.url, 'GET', '/v1/users/stranger-2/recommendations?q=sushi+platter&limit=10&explain=true');
    expect(res.status).toBe(200);
    const results = res.json.results as Result[];
    expect(results.some((r) => /sushi/i.test(r.coupon.title) && r.explain!.dense)).toBe(true);
    expect(res.json.explain.stages.retrieve.note).toContain('recent query');
  });

  it('gives a brand-new coupon a behaviour vector through its content, so feeds can reach it', async () => {
    const base = indexed.find((c) => c.categories.includes(shopper.likes[0]!) && c.status === 'active')!;
    const fresh = { ...base, id: 'brand-new-1', title: `${base.title} (new)`, version: 1 };
    delete (fresh as Partial<Coupon>).updated_at;
    const put = await api(server.url, 'PUT', '/v1/coupons/brand-new-1?wait=true', fresh);
    expect(put.status).toBe(200);
    const stored = (await server.engine.store.get(['brand-new-1'], { withVectors: true })).get('brand-new-1')!;
    expect(stored.behavior).toHaveLength(64);
    const feed = await api(server.url, 'GET', `/v1/users/${shopper.id}/recommendations?limit=100&category=${shopper.likes[0]}`);
    expect((feed.json.results as Result[]).map((r) => r.id)).toContain('brand-new-1');
  });

  it('finds similar coupons by content, by behaviour, or both', async () => {
    const seed = indexed.find((c) => c.status === 'active' && Date.parse(c.valid_until) > Date.now() && Date.parse(c.valid_from) < Date.now())!;
    for (const mode of ['content', 'behavior', 'blend']) {
      const res = await api(server.url, 'GET', `/v1/coupons/${seed.id}/similar?mode=${mode}&limit=5&explain=true`);
      expect(res.status, mode).toBe(200);
      const results = res.json.results as Result[];
      expect(results.length, mode).toBe(5);
      expect(results.map((r) => r.id)).not.toContain(seed.id);
      if (mode === 'behavior') expect(results.every((r) => r.explain!.behavior && !r.explain!.dense)).toBe(true);
      if (mode === 'blend') expect(results.some((r) => r.explain!.behavior) && results.some((r) => r.explain!.dense)).toBe(true);
    }
    const bad = await api(server.url, 'GET', `/v1/coupons/${seed.id}/similar?mode=psychic`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe('mode');
    expect((await api(server.url, 'GET', '/v1/users/bad%20user/recommendations')).json.error.details[0].field).toBe('id');
  });
});
