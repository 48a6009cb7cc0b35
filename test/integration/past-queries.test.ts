/**
 * The engine learning from its own traffic: a click after one search reaches the ranking features
 * of later, similar searches (`past_query_*`), through the real API, served-list log and event
 * store, once the memory of past searches is rebuilt (every second here).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

type Explained = { id: string; explain: { rank: { features: Record<string, number> } } };

describe('engagement after past searches as ranking features', () => {
  let server: TestServer;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir('past-queries-'));
    server = await startServer(testEnv(path.join(dir, 'data'), { PAST_QUERIES_REFRESH_MS: '1000' }));
    await server.engine.upsertCoupons(generateCatalogue({ size: 150, seed: 3 }));
    await server.engine.queue.drained();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('gives the coupon clicked after "pizza" the feature in a later search for "pizza tonight", and no other coupon', async () => {
    const first = await api(server.url, 'GET', '/v1/search?q=pizza&limit=10&user_id=s1');
    expect(first.status).toBe(200);
    const clicked = first.json.results[3].id as string;
    const event = {
      event_id: 'c1',
      type: 'click',
      user_id: 's1',
      coupon_id: clicked,
      query_id: first.json.query_id,
      position: 3,
      ts: new Date().toISOString(),
    };
    expect((await api(server.url, 'POST', '/v1/events', { events: [event] })).status).toBe(202);

    const later = async () => (await api(server.url, 'GET', '/v1/search?q=pizza%20tonight&understand=false&limit=20&explain=true')).json.results as Explained[];
    // The served list is flushed within a second and the memory rebuilt every second: wait for both.
    let results = await later();
    for (let waited = 0; !results.some((r) => r.explain.rank.features.past_query_missing === 0) && waited < 20_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      results = await later();
    }
    const withPast = results.filter((r) => r.explain.rank.features.past_query_missing === 0);
    expect(withPast.map((r) => r.id)).toEqual([clicked]);
    expect(withPast[0]!.explain.rank.features.past_query_engagement_log).toBeGreaterThan(0);
    // A query sharing no word with any past search has nothing to learn from.
    const unrelated = (await api(server.url, 'GET', '/v1/search?q=massage&limit=10&explain=true')).json.results as Explained[];
    expect(unrelated.length).toBeGreaterThan(0);
    expect(unrelated.every((r) => r.explain.rank.features.past_query_missing === 1)).toBe(true);
  }, 60_000);
});
