/**
 * `train:recommender --from-events` learns from the product's own data: the coupons the API
 * indexed (with their stored text vectors) and the events shoppers posted, read back through the
 * configured stores, as a marketplace would run it after a few weeks of traffic.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createEmbedder } from '../../src/embed/create-embedder.ts';
import { loadRecommender } from '../../src/recommend/artifacts.ts';
import { RecommenderService } from '../../src/recommend/recommender-service.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { simulateShoppers } from '../../src/sample/shoppers.ts';
import { spawnTs } from '../support/processes.ts';
import { api, startServer, testEnv } from '../support/server.ts';
import { followedTheVisit, tasteShiftFeeds } from '../support/taste-shift.ts';
import { tempDir } from '../support/tmp.ts';

let dir: string;
let cleanup: () => Promise<void>;
const catalogue = generateCatalogue({ size: 600, seed: 11 });
// Each visit is mostly about one of a shopper's two categories, as a sequence model expects of real traffic.
const { events } = simulateShoppers(catalogue, { shoppers: 300, sessions: 12, end: new Date(), visitFocus: 1 });

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('train-from-events-'));
  const server = await startServer(testEnv(dir, { RECOMMENDER_MODEL_DIR: 'none' }));
  try {
    await server.engine.upsertCoupons(catalogue);
    await server.engine.waitForIndexing();
    for (let i = 0; i < events.length; i += 1000) expect((await api(server.url, 'POST', '/v1/events', { events: events.slice(i, i + 1000) })).status).toBe(202);
  } finally {
    await server.close();
  }
}, 300_000);

afterAll(() => cleanup?.());

const train = async (env: Record<string, string>, args: string[]) => {
  const run = spawnTs('src/bin/train-recommender.ts', { LOG_LEVEL: 'warn', ...env }, args);
  const code = await run.exited;
  return { code, output: run.output() };
};

it('trains on the stored coupons and the logged clicks, saves and redemptions, and the model serves beside the running embedder', async () => {
  const out = path.join(dir, 'model');
  const { code, output } = await train({ DATA_DIR: dir }, ['--from-events', '--out', out, '--epochs', '10']);
  expect(code, output).toBe(0);
  const positives = events.filter((e) => e.type === 'click' || e.type === 'save' || e.type === 'redeem');
  expect(output).toContain(`read 600 coupons from the lancedb store and ${positives.length} clicks, saves and redemptions`);
  const report = JSON.parse(output.trim().split('\n').at(-1)!) as { dataset: string; metrics: { hr10: number; popularity_hr10: number; test_users: number } };
  expect(report.dataset).toMatch(/store \(600 coupons\) \+ file event store/);
  expect(report.metrics.test_users).toBeGreaterThan(40);
  // The shoppers have tastes (categories, merchants): a model of them beats raw popularity. At 3
  // epochs it was once level with it (the simulated events are anchored to the clock); at 10 it is well above.
  expect(report.metrics.hr10, JSON.stringify(report.metrics)).toBeGreaterThan(report.metrics.popularity_hr10);
  const { metadata, vocab } = await loadRecommender(out);
  expect(vocab!.items).toHaveLength(600);
  expect(new Set(vocab!.users)).toEqual(new Set(positives.map((e) => e.user_id)));
  const embedder = createEmbedder(loadConfig({}).embedder);
  expect(metadata.features.item_content).toMatchObject({ embedder: embedder.id });
  expect(await RecommenderService.load(out, { embedderId: embedder.id, dims: embedder.dims })).toBeInstanceOf(RecommenderService);
}, 300_000);

it('trains the sequence model on the logged events, and its feeds follow a shopper whose taste shifts during a visit', async () => {
  const out = path.join(dir, 'sequence-model');
  const { code, output } = await train({ DATA_DIR: dir }, ['--from-events', '--model', 'sequence', '--out', out, '--epochs', '30']);
  expect(code, output).toBe(0);
  const report = JSON.parse(output.trim().split('\n').at(-1)!) as { metrics: { hr10: number; popularity_hr10: number } };
  expect(report.metrics.hr10, JSON.stringify(report.metrics)).toBeGreaterThan(report.metrics.popularity_hr10);
  const { metadata } = await loadRecommender(out);
  expect(metadata).toMatchObject({ name: 'sequence', window: 50, dims: 64, vocabulary: { users: 0, items: 600 } });
  expect(metadata.features.user_history).toMatch(/in order/);

  // Served through the API: the stored coupons get the model's behaviour vectors by a reindex, and
  // each feed's user vector comes from the shopper's stored events, read in order.
  const server = await startServer(testEnv(dir, { RECOMMENDER_MODEL_DIR: out }));
  try {
    expect((await api(server.url, 'GET', '/readyz')).json.checks.recommender).toMatchObject({ ok: true, detail: expect.stringMatching(/^sequence /) });
    await server.engine.reindex();
    await server.engine.waitForIndexing();
    const shifts = await tasteShiftFeeds(server.url, catalogue, 'sequence-shift');
    expect(shifts.length).toBe(6);
    // The feeds move towards the visit: together, at least half their 60 places change to its
    // category, and most end with more of it than of the weeks before. (The model learns that
    // from the visits in its training data; the hybrid's recency weighting is set by hand. In
    // four runs of this test: 5 of 6 followed, 40–44 places moved.)
    const moved = shifts.reduce((sum, s) => sum + s.after.to - s.before.to, 0);
    expect(moved, JSON.stringify(shifts)).toBeGreaterThanOrEqual(30);
    expect(followedTheVisit(shifts), JSON.stringify(shifts)).toBeGreaterThanOrEqual(4);
  } finally {
    await server.close();
  }
}, 300_000);

it('refuses clearly when there is nothing to learn from', async () => {
  const empty = await tempDir('train-from-nothing-');
  try {
    const { code, output } = await train({ DATA_DIR: empty.dir }, ['--from-events', '--out', path.join(empty.dir, 'model')]);
    expect(code).toBe(1);
    expect(output).toContain('the store holds no coupons: index the catalogue first');
  } finally {
    await empty.cleanup();
  }
}, 120_000);
