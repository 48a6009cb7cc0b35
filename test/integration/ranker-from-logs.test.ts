/**
 * Training the ranker on the product's own logs, end to end: the real engine serves searches
 * (with exploration on) and logs every served list with its features and positions; simulated
 * shoppers click with a known position bias on coupons whose true appeal is their discount depth;
 * the clicks come back through POST /v1/events with the list's query_id; `npm run train:ranker`
 * joins them, estimates the propensities, trains with IPW and saves a model; the engine serves it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discountPercent, type Coupon } from '../../src/domain/coupon.ts';
import type { CouponEvent } from '../../src/domain/event.ts';
import type { ServedOutcome } from '../../src/events/event-store.ts';
import { FileEventStore } from '../../src/events/file-event-store.ts';
import { ndcg, mean } from '../../src/util/ranking-metrics.ts';
import { loadRanker } from '../../src/ranking/artifacts.ts';
import { RANKING_FEATURES, RANKING_FEATURES_VERSION } from '../../src/ranking/features.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { seededRandom } from '../../src/util/random.ts';
import { spawnTs } from '../support/processes.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const QUERIES = [
  'pizza',
  'sushi dinner',
  'car wash',
  'oil change',
  'massage',
  'yoga classes',
  'hotel weekend',
  'headphones',
  'shoes',
  'dog grooming',
  'haircut',
  'coffee',
];
/**
 * Searches served and logged. EM's estimate of the examination curve varies with the random query
 * ids that decide which lists are explored: at 360 lists its second position came out 0.47–0.78
 * over runs (truth 0.5), and CI once failed the bound below on 0.78.
 */
const LISTS = 720;
/** The true chance a shopper who looks at a coupon wants it: its discount depth, squared. */
const appeal = (c: Coupon) => Math.max(0.03, (discountPercent(c) / 100) ** 2);
/** The examination curve the simulated shoppers follow (what EM has to recover). */
const examined = (position: number) => 1 / (position + 1);

describe('ranker trained from served-list logs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  let catalogue: Map<string, Coupon>;
  let report: Record<string, any>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('ranker-logs-'));
    env = testEnv(path.join(dir, 'data'), { RANK_EXPLORATION: '0.5', RANKER_MODEL_DIR: path.join(dir, 'ranker') });
    const coupons = generateCatalogue({ size: 240, seed: 7 });
    catalogue = new Map(coupons.map((c) => [c.id, c]));
    const server = await startServer(env);
    try {
      await server.engine.upsertCoupons(coupons);
      await server.engine.queue.drained();
      const rand = seededRandom(21);
      let n = 0;
      for (let s = 0; s < LISTS; s++) {
        const q = QUERIES[s % QUERIES.length]!;
        const user = `shopper-${s % 25}`;
        const res = await api(server.url, 'GET', `/v1/search?q=${encodeURIComponent(q)}&user_id=${user}&limit=10`);
        expect(res.status).toBe(200);
        const events: CouponEvent[] = [];
        res.json.results.forEach((r: { id: string }, position: number) => {
          const base = { user_id: user, coupon_id: r.id, ts: new Date().toISOString(), query_id: res.json.query_id, position };
          events.push({ ...base, event_id: `imp-${++n}`, type: 'impression' });
          if (rand() < examined(position) * appeal(catalogue.get(r.id)!)) events.push({ ...base, event_id: `clk-${++n}`, type: 'click' });
        });
        expect((await api(server.url, 'POST', '/v1/events', { events })).status).toBe(202);
      }
    } finally {
      await server.close(); // flushes the served-list log
    }
    const cli = spawnTs('src/bin/train-ranker.ts', { ...env, NODE_OPTIONS: '' });
    expect(await cli.exited, cli.output()).toBe(0);
    report = JSON.parse(cli.output().trim().split('\n').at(-1)!);
    if (process.env.SHOW_REPORT) console.log(cli.output());
  }, 600_000);

  /** The served lists the runs logged, joined to their outcomes. */
  async function loggedLists(): Promise<ServedOutcome[]> {
    const store = new FileEventStore(path.join(dir, 'data', 'events.jsonl'));
    await store.open();
    const lists: ServedOutcome[] = [];
    for await (const l of store.servedOutcomes()) lists.push(l);
    await store.close();
    return lists;
  }

  afterAll(async () => {
    await cleanup?.();
  });

  it('logs every served list with positions and features, joined to its clicks by query_id', async () => {
    const lists = await loggedLists();
    expect(lists).toHaveLength(LISTS);
    expect(lists[0]).toMatchObject({
      surface: 'search',
      query: 'pizza',
      userId: 'shopper-0',
      scorer: 'fused',
      idf: 'uniform',
      featuresVersion: RANKING_FEATURES_VERSION,
    });
    expect(lists[0]!.items.map((it) => it.position)).toEqual([...lists[0]!.items.keys()]);
    expect(lists[0]!.items[0]!.features).toHaveLength(RANKING_FEATURES.length);
    expect(lists.filter((l) => Object.keys(l.outcomes).length > 0).length).toBe(report.lists_with_outcomes);
  });

  it('estimates the position bias from the explored logs', () => {
    expect(report.lists_read).toBe(LISTS);
    expect(report.propensities.method).toBe('em');
    expect(report.propensities.varying_pair_share).toBeGreaterThan(0.05);
    const [p0, p1, p2, , p4] = report.propensities.values as number[];
    expect(p0).toBe(1);
    // True curve: 1, 0.5, 0.33, 0.25, 0.2.
    expect(p1).toBeGreaterThan(0.3);
    expect(p1).toBeLessThan(0.75);
    expect(p2!).toBeLessThan(p1!);
    expect(p4!).toBeLessThan(p2!);
  });

  it('saves a model that learned from the coupon-side features and beats the served order on held-out lists', async () => {
    // The report's own held-out figures (IPW-weighted clicks on ~60 lists whose split follows the
    // random query ids) are too noisy to compare; the truth the simulation knows is checked below.
    expect(report.validation_lists).toBeGreaterThan(20);
    for (const v of [report.validation.model_ndcg10, report.validation.served_ndcg10]) expect(v).toBeGreaterThan(0);
    const metadata = JSON.parse(await readFile(path.join(dir, 'ranker', 'metadata.json'), 'utf8'));
    expect(metadata.features.version).toBe(RANKING_FEATURES_VERSION);
    expect(metadata.learned_features).toContain('discount_depth');
    expect(metadata.training).toMatchObject({ source: 'served-list logs', propensities: { method: 'em' } });
    // Against the truth the simulation knows: order the logged lists by the model and by the served order.
    const { ranker } = await loadRanker(path.join(dir, 'ranker'));
    const model: number[] = [],
      served: number[] = [];
    for (const l of await loggedLists()) {
      const truth = l.items.map((it) => appeal(catalogue.get(it.couponId)!));
      const scores = ranker.scoreSync(l.items.map((it) => Float32Array.from(it.features)));
      model.push(
        ndcg(
          [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!).map((i) => truth[i]!),
          10,
          truth,
        ),
      );
      served.push(ndcg(truth, 10));
    }
    if (process.env.SHOW_REPORT) console.log(`true-appeal NDCG@10: model ${mean(model).toFixed(4)}, served order ${mean(served).toFixed(4)}`);
    expect(mean(model)).toBeGreaterThan(mean(served) + 0.03);
  });

  it('is served by the engine: explain shows the learned scorer and the v3 features', async () => {
    const server: TestServer = await startServer(env);
    try {
      expect((await api(server.url, 'GET', '/readyz')).json.checks.ranker.detail).toMatch(/\(features v3\)$/);
      const res = await api(server.url, 'GET', '/v1/search?q=pizza&user_id=shopper-1&explain=true&limit=5');
      expect(res.status).toBe(200);
      const rank = res.json.results[0].explain.rank;
      expect(rank.scorer).toBe('ltr');
      expect(rank.features).toMatchObject({ affinity_missing: 0, query_missing: 0 });
      expect(rank.features.discount_depth).toBeGreaterThan(0);
      // Engagement is known exactly for the coupons some logged list showed: with exploration on,
      // the learned order may lift a pizza coupon no earlier list reached, and that one has none.
      const shown = new Set((await loggedLists()).flatMap((l) => l.items.map((it) => it.couponId)));
      const results = res.json.results as { id: string; explain: { rank: { features: Record<string, number> } } }[];
      expect(results.map((r) => r.explain.rank.features.engagement_missing)).toEqual(results.map((r) => (shown.has(r.id) ? 0 : 1)));
      expect(results.some((r) => shown.has(r.id))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
