/**
 * The foundation end to end: the sample catalogue goes in through the HTTP API and the BullMQ
 * queue, a worker in a separate process embeds and writes it, and searches over HTTP must find
 * what people mean. Needs Redis at 127.0.0.1:6379 (or TEST_REDIS_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullQueue } from '../../src/indexing/bullmq-queue.ts';
import type { Coupon } from '../../src/domain/coupon.ts';
import { haversineKm } from '../../src/domain/geo.ts';
import { generateCatalogue, SAMPLE_CITIES } from '../../src/sample/catalogue.ts';
import { lexicalText } from '../../src/text/coupon-text.ts';
import { tokenize } from '../../src/text/tokenize.ts';
import { spawnTs, waitFor, type Spawned } from '../support/processes.ts';
import { api, REDIS_URL, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

describe('coupon search end to end (Redis queue, worker process, real model, LanceDB)', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let env: Record<string, string>;
  let worker: Spawned;
  let server: TestServer;
  const catalogue = generateCatalogue({ size: 2400, seed: 42 });
  const byId = new Map(catalogue.map((c) => [c.id, c]));

  beforeAll(async () => {
    dir = await tempDir('acceptance-');
    env = testEnv(dir.dir, { REDIS_URL, WORKER_IN_API: 'false', WORKER_CONCURRENCY: '128' });
    worker = spawnTs('src/bin/worker.ts', { ...env, LOG_LEVEL: 'info' });
    await waitFor('the worker to start', () => worker.output().includes('worker started'), 60_000);
    server = await startServer(env, { runWorker: false });
    for (let i = 0; i < catalogue.length; i += 1000) {
      const res = await api(server.url, 'POST', '/v1/coupons/batch', { coupons: catalogue.slice(i, i + 1000) });
      expect(res.status).toBe(202);
    }
    await server.engine.queue.drained(600_000);
    await waitFor('the API to see every coupon', async () => (await server.engine.store.stats()).count === catalogue.length, 30_000);
  }, 900_000);

  afterAll(async () => {
    await server?.close();
    if (worker) {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0); // graceful shutdown
    }
    const queue = new BullQueue({ redisUrl: REDIS_URL, prefix: env.QUEUE_PREFIX! });
    await queue.obliterate();
    await queue.close();
    await dir?.cleanup();
  });

  const search = async (params: string) => {
    const res = await api(server.url, 'GET', `/v1/search?${params}`);
    expect(res.status, res.text).toBe(200);
    return res.json.results as Array<{ id: string; coupon: Coupon; distance_km?: number }>;
  };
  const words = (c: Coupon) => new Set(tokenize(lexicalText(c)));

  it('indexed every coupon exactly once, with no failed jobs', async () => {
    expect((await server.engine.store.stats()).count).toBe(catalogue.length);
    expect(await server.engine.queue.failed()).toEqual([]);
  });

  it('"half price pizza" puts a 50%-off pizza coupon sharing only the word "pizza" in the top 3', async () => {
    const results = await search('q=half+price+pizza&limit=3');
    const match = results.find((r) => {
      const w = words(r.coupon);
      return r.coupon.discount.kind === 'percent' && r.coupon.discount.value === 50 && w.has('pizza') && !w.has('half') && !w.has('price');
    });
    expect(match, JSON.stringify(results.map((r) => r.coupon.title))).toBeDefined();
  });

  it('"car service" finds an oil-change coupon that shares no word with the query', async () => {
    const results = await search('q=car+service&limit=10');
    const match = results.find((r) => /oil/i.test(r.coupon.title) && !words(r.coupon).has('car') && !words(r.coupon).has('service'));
    expect(match, JSON.stringify(results.map((r) => r.coupon.title))).toBeDefined();
  });

  it('never returns an expired or paused coupon', async () => {
    const now = Date.now();
    const expired = catalogue.filter((c) => Date.parse(c.valid_until) < now);
    const paused = catalogue.filter((c) => c.status === 'paused');
    expect(expired.length).toBeGreaterThan(50);
    for (const q of ['pizza', 'oil change', 'massage', 'hotel stay', 'haircut', expired[0]!.title, paused[0]!.title]) {
      for (const r of await search(`q=${encodeURIComponent(q)}&limit=100`)) {
        const c = byId.get(r.id)!;
        expect(c.status, r.id).toBe('active');
        expect(Date.parse(c.valid_from) <= now && now < Date.parse(c.valid_until), `${r.id} valid now`).toBe(true);
      }
    }
  });

  it('a geo filter keeps only coupons redeemable within the radius, nearest store reported', async () => {
    const nyc = SAMPLE_CITIES[0];
    const results = await search(`q=pizza&lat=${nyc.lat}&lon=${nyc.lon}&radius_km=12&limit=50`);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      const nearest = Math.min(...r.coupon.locations.map((p) => haversineKm(p, nyc)));
      expect(nearest).toBeLessThanOrEqual(12);
      expect(r.distance_km).toBeCloseTo(nearest, 1);
    }
    const outside = catalogue.filter((c) => c.locations.length > 0 && c.locations.every((p) => haversineKm(p, nyc) > 12) && /pizza/i.test(c.title));
    const ids = new Set(results.map((r) => r.id));
    expect(outside.some((c) => ids.has(c.id))).toBe(false);
  });

  it('a category filter holds', async () => {
    const results = await search('q=deal+for+two&category=spa,travel&limit=50');
    expect(results.length).toBeGreaterThan(10);
    for (const r of results) expect(r.coupon.categories.some((c) => c === 'spa' || c === 'travel')).toBe(true);
  });

  it('similar coupons of a pizza coupon are food coupons, from several merchants', async () => {
    const now = Date.now();
    const pizza = catalogue.find((c) => /pizza/i.test(c.title) && c.status === 'active' && Date.parse(c.valid_until) > now && Date.parse(c.valid_from) < now)!;
    const res = await api(server.url, 'GET', `/v1/coupons/${pizza.id}/similar?limit=5`);
    expect(res.status).toBe(200);
    const results = res.json.results as Array<{ id: string; coupon: Coupon }>;
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r.id).not.toBe(pizza.id);
      expect(r.coupon.categories).toContain('food');
    }
    expect(new Set(results.map((r) => r.coupon.merchant.id)).size).toBeGreaterThanOrEqual(3);
  });

  it("explain=true shows each stage and each result's ranks and scores", async () => {
    const res = await api(server.url, 'GET', '/v1/search?q=sushi&limit=3&explain=true');
    expect(Object.keys(res.json.explain.stages)).toEqual(['embed', 'retrieve', 'fuse', 'rank', 'diversify', 'page']);
    const first = res.json.results[0].explain;
    expect(first.fused.rank).toBeGreaterThan(0);
    expect(first.rank.scorer).toBe('fused');
    expect(first.diversify.position).toBe(1);
    expect(first.dense ?? first.lexical).toBeDefined();
  });
});
