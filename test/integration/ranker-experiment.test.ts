/**
 * Ranker experiments by team-draft interleaving: simulated shoppers whose clicks favour deeper
 * discounts search through the API while RANKER_EXPERIMENT interleaves the fused order with a
 * ranker trained to prefer discount depth; the experiment must pick that ranker with p < 0.01
 * within 150 shopping visits, and its figures must equal a count over the served-list log.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coupon, discountPercent } from '../../src/domain/coupon.ts';
import { signTest } from '../../src/events/experiment.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { teamDraft } from '../../src/search/team-draft.ts';
import { seededRandom } from '../../src/util/random.ts';
import { waitFor } from '../support/processes.ts';
import { api, startServer, type TestServer, testEnv } from '../support/server.ts';
import { saveSyntheticRanker } from '../support/rankers.ts';
import { tempDir } from '../support/tmp.ts';

const VISITS = 150;

describe('team-draft interleaving', () => {
  it('alternates picks, credits each result once, and keeps both orders in its prefix', () => {
    const rand = seededRandom(3);
    const a = [0, 1, 2, 3, 4, 5];
    const b = [5, 4, 3, 2, 1, 0];
    const out = teamDraft(a, b, () => rand() < 0.5);
    expect(out.map((o) => o.index).sort()).toEqual(a);
    for (let k = 2; k <= out.length; k += 2) {
      const teams = out.slice(0, k).map((o) => o.team);
      expect(Math.abs(teams.filter((t) => t === 'a').length - teams.filter((t) => t === 'b').length)).toBeLessThanOrEqual(1);
    }
    expect(out.filter((o) => o.team === 'a').map((o) => o.index)).toEqual(
      out
        .filter((o) => o.team === 'a')
        .map((o) => o.index)
        .sort((x, y) => x - y),
    );
  });

  it('sign test: exact two-sided binomial p-values', () => {
    expect(signTest(0, 0)).toBe(1);
    expect(signTest(5, 5)).toBe(1);
    expect(signTest(10, 0)).toBeCloseTo(2 / 1024, 10);
    expect(signTest(60, 40)).toBeCloseTo(0.0569, 3);
  });
});

describe('RANKER_EXPERIMENT with simulated shoppers', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer;
  const coupons = new Map<string, Coupon>();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('experiment-'));
    // A ranker trained (on synthetic lists) to order by discount depth alone.
    await saveSyntheticRanker(path.join(dir, 'deep-discounts'), 'discount_depth', { seed: 2, lists: 150, epochs: 8 });
    server = await startServer(testEnv(path.join(dir, 'data'), { RANKER_EXPERIMENT: `fused,${path.join(dir, 'deep-discounts')}` }));
    const catalogue = generateCatalogue({ size: 500, seed: 12 });
    for (const c of catalogue) coupons.set(c.id, c);
    await server.engine.upsertCoupons(catalogue);
    await server.engine.waitForIndexing();
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it(`picks the ranker the shoppers prefer with p < 0.01 within ${VISITS} visits; the log agrees`, async () => {
    const rand = seededRandom(7);
    const queries = ['pizza', 'sushi', 'massage', 'dinner', 'coffee', 'burger', 'spa day', 'yoga', 'car wash', 'tacos'];
    const from = new Date(Date.now() - 1000).toISOString();
    for (let v = 0; v < VISITS; v++) {
      const q = `${queries[v % queries.length]}${v >= queries.length ? ` ${['deal', 'offer', 'near', 'best', 'cheap'][v % 5]}` : ''}`;
      const res = await api(server.url, 'GET', `/v1/search?q=${encodeURIComponent(q)}&limit=10`);
      expect(res.status, res.text).toBe(200);
      // The shopper scans down the page (attention fades with position) and clicks what is deeply discounted.
      const events = (res.json.results as Array<{ id: string }>).flatMap((r, position) => {
        const depth = discountPercent(coupons.get(r.id)!) / 100;
        const p = (1 / (1 + position) ** 0.5) * depth ** 2;
        return rand() < p
          ? [
              {
                event_id: `x-${v}-${position}`,
                user_id: `shopper-${v % 30}`,
                coupon_id: r.id,
                type: 'click',
                ts: new Date().toISOString(),
                query_id: res.json.query_id,
                position,
              },
            ]
          : [];
      });
      if (events.length) expect((await api(server.url, 'POST', '/v1/events', { events })).status).toBe(202);
    }
    const report = async () => (await api(server.url, 'GET', `/v1/analytics/experiment?from=${encodeURIComponent(from)}`)).json;
    await waitFor('every visit logged', async () => (await report()).lists === VISITS, 10_000);
    const r = await report();
    const deep = r.rankers.find((x: { ranker: string }) => x.ranker === 'deep-discounts');
    expect(r.winner).toBe('deep-discounts');
    expect(r.p_value).toBeLessThan(0.01);
    expect(deep.wins).toBeGreaterThan(deep.losses);

    // The same figures, counted from the served-list log.
    let wins = 0;
    let losses = 0;
    let ties = 0;
    for await (const list of server.engine.events.servedOutcomes({ since: new Date(from) })) {
      expect(list.experiment).toEqual({ a: 'fused', b: 'deep-discounts' });
      expect(list.items.every((i) => i.team === 'a' || i.team === 'b')).toBe(true);
      const credit = { a: 0, b: 0 };
      for (const i of list.items) if (list.outcomes[i.couponId]?.includes('click')) credit[i.team!]++;
      if (credit.a + credit.b === 0) continue;
      if (credit.b > credit.a) wins++;
      else if (credit.a > credit.b) losses++;
      else ties++;
    }
    expect({ wins: deep.wins, losses: deep.losses, ties: deep.ties }).toEqual({ wins, losses, ties });
    const explained = await api(server.url, 'GET', '/v1/search?q=pizza&limit=5&explain=true');
    expect(explained.json.explain.stages.rank.note).toContain("interleaved (team draft) 'fused' (a,");
  });
});
