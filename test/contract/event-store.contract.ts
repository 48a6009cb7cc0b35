import { afterEach, describe, expect, it } from 'vitest';
import type { CouponEvent } from '../../src/domain/event.ts';
import type { CouponFacts, EventStore, ServedList, ServedOutcome, ServedOutcomeOptions } from '../../src/events/event-store.ts';
import { seededRandom } from '../../src/util/random.ts';

export interface EventStoreHandle {
  store: EventStore;
  /** A second store over the same storage (a restart). */
  reopen(): Promise<EventStore>;
  dispose(): Promise<void>;
}

const facts: CouponFacts = async (ids) => new Map(ids.map((id) => [id, { categories: [id.startsWith('pz') ? 'food' : 'spa'], merchantId: `m-${id}` }]));
const DAY = 86_400_000;
const at = (daysAgo: number) => new Date(Date.UTC(2026, 5, 1) - daysAgo * DAY).toISOString();
const ev = (id: string, user: string, coupon: string, type: CouponEvent['type'], daysAgo = 0): CouponEvent => ({
  event_id: id,
  user_id: user,
  coupon_id: coupon,
  type,
  ts: at(daysAgo),
});
const NOW = new Date(Date.UTC(2026, 5, 1));

/** What every event store must do. */
export function describeEventStore(name: string, factory: () => Promise<EventStoreHandle>): void {
  describe(`EventStore contract: ${name}`, () => {
    let handle: EventStoreHandle | undefined;
    const open = async () => {
      handle = await factory();
      await handle.store.open();
      return handle.store;
    };
    afterEach(async () => {
      await handle?.dispose();
      handle = undefined;
    });

    it('appends once per event id: a replayed batch is reported as duplicates and stores nothing', async () => {
      const store = await open();
      const batch = [ev('e1', 'u1', 'pz1', 'click'), ev('e2', 'u1', 'pz1', 'impression')];
      expect(await store.append(batch)).toEqual({ inserted: ['e1', 'e2'], duplicates: [] });
      expect(await store.append([...batch, ev('e3', 'u2', 'sp1', 'save')])).toEqual({ inserted: ['e3'], duplicates: ['e1', 'e2'] });
      expect(await store.count()).toBe(3);
    });

    it('counts each event exactly once, however often the counters job runs, with decay', async () => {
      const store = await open();
      await store.append([
        ev('a', 'u1', 'pz1', 'click', 14),
        ev('b', 'u2', 'pz1', 'click', 0),
        ev('c', 'u1', 'pz1', 'impression', 0),
        ev('d', 'u3', 'pz1', 'impression', 0),
      ]);
      // u3 only saw an impression: nothing about them changed, so no vector needs refreshing.
      const first = await store.applyCounters(['a', 'b', 'c', 'd'], facts);
      expect({ ...first, users: first.users.sort() }).toEqual({ counted: 4, users: ['u1', 'u2'] });
      expect(await store.applyCounters(['a', 'b', 'c', 'unknown'], facts)).toEqual({ counted: 0, users: [] });
      const stats = (await store.couponStats(['pz1', 'none'], NOW)).get('pz1')!;
      expect(stats.counts.click).toBeCloseTo(1.5, 6); // one today, one a half-life ago
      expect(stats.counts.impression).toBeCloseTo(2, 6);
      expect(stats.counts.redeem).toBe(0);
    });

    it('keeps user affinity by category and merchant, recent positives, and exclusions', async () => {
      const store = await open();
      await store.append([
        ev('1', 'u1', 'pz1', 'click', 2),
        ev('2', 'u1', 'pz2', 'redeem', 1),
        ev('3', 'u1', 'sp1', 'dismiss', 0),
        ev('4', 'u1', 'sp2', 'impression', 0),
      ]);
      await store.applyCounters(['1', '2', '3', '4'], facts);
      const a = await store.userAffinity('u1', NOW);
      expect(a.categories.food).toBeGreaterThan(1.8);
      expect(a.categories.spa).toBeUndefined(); // dismissals and impressions are not affinity
      expect(Object.keys(a.merchants).sort()).toEqual(['m-pz1', 'm-pz2']);
      expect(a.excluded.sort()).toEqual(['pz2', 'sp1']);
      expect(a.recent).toEqual(['pz2', 'pz1']);
      // The events themselves, as a sequence model reads them: positives only, newest first.
      expect(a.recentEvents.map((e) => [e.couponId, e.type])).toEqual([
        ['pz2', 'redeem'],
        ['pz1', 'click'],
      ]);
      expect(Date.parse(a.recentEvents[0]!.ts)).toBeGreaterThan(Date.parse(a.recentEvents[1]!.ts));
      expect((await store.userAffinity('nobody', NOW)).recent).toEqual([]);
      expect((await store.userAffinity('nobody', NOW)).recentEvents).toEqual([]);
    });

    it('ranks popular coupons by decayed clicks, saves and redemptions', async () => {
      const store = await open();
      await store.append([
        ev('p1', 'u1', 'pzA', 'click'),
        ev('p2', 'u2', 'pzA', 'click'),
        ev('p3', 'u1', 'pzB', 'redeem'),
        ev('p4', 'u3', 'pzB', 'click', 28),
        ev('p5', 'u1', 'pzC', 'impression'),
      ]);
      await store.applyCounters(['p1', 'p2', 'p3', 'p4', 'p5'], facts);
      const top = await store.popular(10, NOW);
      expect(top.map((p) => p.couponId)).toEqual(['pzB', 'pzA']); // 2 + 0.25 beats 2; impressions alone are not popularity
      expect(top[0]!.score).toBeCloseTo(2.25, 4);
    });

    it('logs served lists and joins the clicks, saves and redemptions that name their query id', async () => {
      const store = await open();
      const served = (queryId: string, daysAgo: number, ids: string[]): ServedList => ({
        queryId,
        ts: at(daysAgo),
        surface: 'search',
        query: 'pizza',
        userId: 'u1',
        scorer: 'fused',
        idf: 'uniform',
        featuresVersion: 2,
        items: ids.map((couponId, position) => ({ couponId, position, features: [position, 0.5] })),
      });
      await store.logServed([served('q-old', 10, ['pz1', 'pz2']), served('q-new', 1, ['pz2', 'pz3', 'pz4'])]);
      await store.append([
        { ...ev('c1', 'u1', 'pz3', 'click', 1), query_id: 'q-new', position: 1 },
        { ...ev('c2', 'u1', 'pz3', 'redeem', 1), query_id: 'q-new', position: 1 },
        { ...ev('c3', 'u1', 'pz2', 'impression', 1), query_id: 'q-new', position: 0 },
        { ...ev('c4', 'u1', 'pz1', 'click', 1), query_id: 'q-elsewhere' },
      ]);
      const all: ServedOutcome[] = [];
      for await (const list of store.servedOutcomes()) all.push(list);
      expect(all.map((l) => l.queryId)).toEqual(['q-old', 'q-new']);
      expect(all[0]!.outcomes).toEqual({});
      expect(all[1]).toMatchObject({ surface: 'search', query: 'pizza', userId: 'u1', scorer: 'fused', featuresVersion: 2 });
      expect(all[1]!.items[1]).toEqual({ couponId: 'pz3', position: 1, features: [1, 0.5] });
      expect(Object.keys(all[1]!.outcomes)).toEqual(['pz3']); // impressions are not outcomes
      expect([...all[1]!.outcomes.pz3!].sort()).toEqual(['click', 'redeem']);
      const recent: string[] = [];
      for await (const list of store.servedOutcomes({ since: new Date(Date.parse(at(5))) })) recent.push(list.queryId);
      expect(recent).toEqual(['q-new']);
    });

    it('reads only the served lists something was engaged with, when asked (what memory of past searches learns from)', async () => {
      const store = await open();
      const served = (queryId: string): ServedList => ({
        queryId,
        ts: at(1),
        surface: 'search',
        query: 'pizza',
        scorer: 'fused',
        idf: 'uniform',
        featuresVersion: 3,
        items: [{ couponId: 'pz1', position: 0, features: [] }],
      });
      await store.logServed(['q-clicked', 'q-shown', 'q-widget', 'q-quiet'].map(served));
      await store.append([
        { ...ev('e1', 'u1', 'pz1', 'click', 1), query_id: 'q-clicked', position: 0 },
        { ...ev('e2', 'u1', 'pz1', 'impression', 1), query_id: 'q-shown', position: 0 },
        { ...ev('e3', 'u2', 'pz1', 'save', 1), query_id: 'q-widget', position: 0, key_id: 'widget' },
      ]);
      const read = async (options: ServedOutcomeOptions) => {
        const ids: string[] = [];
        for await (const list of store.servedOutcomes(options)) ids.push(list.queryId);
        return ids.sort(); // served the same instant: in no particular order
      };
      expect(await read({})).toEqual(['q-clicked', 'q-quiet', 'q-shown', 'q-widget']);
      expect(await read({ engagedOnly: true })).toEqual(['q-clicked', 'q-widget']);
      expect(await read({ engagedOnly: true, excludeKeys: ['widget'] })).toEqual(['q-clicked']);
    });

    it('lists clicks, saves and redemptions oldest first, from a date on, for training', async () => {
      const store = await open();
      await store.append([
        ev('p3', 'u2', 'pz3', 'redeem', 1),
        ev('p1', 'u1', 'pz1', 'click', 9),
        ev('i1', 'u1', 'pz2', 'impression', 5),
        ev('p2', 'u1', 'pz2', 'save', 5),
        ev('d1', 'u2', 'pz1', 'dismiss', 2),
      ]);
      const all = [];
      for await (const e of store.positiveEvents()) all.push(e);
      expect(all).toEqual([
        { userId: 'u1', couponId: 'pz1', type: 'click', ts: at(9) },
        { userId: 'u1', couponId: 'pz2', type: 'save', ts: at(5) },
        { userId: 'u2', couponId: 'pz3', type: 'redeem', ts: at(1) },
      ]);
      const recent = [];
      for await (const e of store.positiveEvents({ since: new Date(Date.parse(at(5))) })) recent.push(e.couponId);
      expect(recent).toEqual(['pz2', 'pz3']);
    });

    it('reads the newest searches first, at most a limit and none before a date, without reading the rest', async () => {
      const store = await open();
      const list = (n: number, surface: ServedList['surface'], daysAgo: number): ServedList => ({
        queryId: `q${n}`,
        ts: at(daysAgo),
        surface,
        query: `query ${n} ${'é'.repeat(n % 3)}`,
        scorer: 'fused',
        idf: 'uniform',
        featuresVersion: 2,
        items: Array.from({ length: n % 4 }, (_, position) => ({ couponId: `c${position}`, position, features: [position] })),
      });
      // 300 lists, one an hour back from day 20.
      const lists = Array.from({ length: 300 }, (_, n) => list(n, n % 5 === 0 ? 'similar' : 'search', 20 - n / 24));
      await store.logServed(lists);
      const searches = lists.filter((l) => l.surface === 'search').reverse();
      const expected = (l: ServedList) => ({ query: l.query, results: l.items.length });
      expect(await store.recentSearches({ since: new Date(0), limit: 1000 })).toEqual(searches.map(expected));
      expect(await store.recentSearches({ since: new Date(0), limit: 7 })).toEqual(searches.slice(0, 7).map(expected));
      const since = new Date(Date.parse(at(10)));
      expect(await store.recentSearches({ since, limit: 1000 })).toEqual(searches.filter((l) => Date.parse(l.ts) >= since.getTime()).map(expected));
    });

    it('keeps everything across a restart', async () => {
      const store = await open();
      await store.append([ev('x1', 'u9', 'pz9', 'save', 0)]);
      await store.applyCounters(['x1'], facts);
      await store.close();
      const again = await handle!.reopen();
      expect(await again.count()).toBe(1);
      expect(await again.append([ev('x1', 'u9', 'pz9', 'save', 0)])).toEqual({ inserted: [], duplicates: ['x1'] });
      expect((await again.applyCounters(['x1'], facts)).counted).toBe(0);
      expect((await again.couponStats(['pz9'], NOW)).get('pz9')!.counts.save).toBeCloseTo(1, 6);
      handle!.store = again;
    });

    it('analytics equal a brute-force count over the recorded lists and events', async () => {
      const store = await open();
      const rand = seededRandom(17);
      const queries = ['Pizza', 'pizza ', 'sushi for two', 'zzz nothing', 'spa day', 'tacos'];
      const lists: ServedList[] = [];
      const events: CouponEvent[] = [];
      for (let n = 0; n < 120; n++) {
        const query = queries[Math.floor(rand() * queries.length)]!;
        const empty = query.startsWith('zzz') || rand() < 0.05;
        const surface: ServedList['surface'] = rand() < 0.15 ? 'feed' : 'search';
        const items = empty
          ? []
          : Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, p) => ({
              couponId: `c${Math.floor(rand() * 15)}`,
              position: p,
              features: [],
              merchantId: '',
            }));
        const unique = [...new Map(items.map((x) => [x.couponId, x])).values()].map((x, p) => ({
          ...x,
          position: p,
          merchantId: `m${Number(x.couponId.slice(1)) % 4}`,
        }));
        const list: ServedList = { queryId: `aq${n}`, ts: at(n % 10), surface, query, scorer: 'fused', idf: 'uniform', featuresVersion: 2, items: unique };
        lists.push(list);
        for (const item of unique) {
          for (const type of ['click', 'click', 'save', 'redeem'] as const) {
            if (rand() < 0.2) events.push({ ...ev(`ae${events.length}`, 'u1', item.couponId, type, n % 10), query_id: list.queryId, position: item.position });
          }
        }
        if (rand() < 0.1) events.push({ ...ev(`ae${events.length}`, 'u1', 'not-shown', 'click', 1), query_id: list.queryId });
      }
      await store.logServed(lists);
      await store.append(events);
      const window = { from: new Date(Date.parse(at(7))), to: new Date(Date.parse(at(2))) };
      const got = await store.analytics({ ...window, limit: 50, by: 'clicks' });

      // Brute force: every figure counted straight from what was recorded.
      const inWindow = lists.filter((l) => Date.parse(l.ts) >= window.from.getTime() && Date.parse(l.ts) < window.to.getTime());
      const acted = (l: ServedList, id: string, type: string) => events.some((e) => e.query_id === l.queryId && e.coupon_id === id && e.type === type);
      const listDid = (l: ServedList, type: string) => l.items.some((i) => acted(l, i.couponId, type));
      const searches = inWindow.filter((l) => l.surface === 'search');
      const norm = (q: string) => q.toLowerCase().replace(/\s+/g, ' ').trim();
      const byQuery = new Map<string, ServedList[]>();
      for (const l of searches) byQuery.set(norm(l.query), [...(byQuery.get(norm(l.query)) ?? []), l]);
      const order = <T>(rows: T[], count: (r: T) => number, key: (r: T) => string) =>
        rows.sort((a, b) => count(b) - count(a) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      const queryRows = order(
        [...byQuery].map(([query, ls]) => ({
          query,
          searches: ls.length,
          clicked: ls.filter((l) => listDid(l, 'click')).length,
          saved: ls.filter((l) => listDid(l, 'save')).length,
          redeemed: ls.filter((l) => listDid(l, 'redeem')).length,
        })),
        (r) => r.searches,
        (r) => r.query,
      );
      expect(got.searches).toBe(searches.length);
      expect(got.queries).toEqual(queryRows);
      expect(got.noResults).toEqual(
        queryRows.filter((r) => byQuery.get(r.query)!.every((l) => l.items.length === 0)).map((r) => ({ query: r.query, searches: r.searches })),
      );
      expect(got.noClicks).toEqual(
        queryRows
          .filter((r) => byQuery.get(r.query)!.every((l) => l.items.length > 0) && r.clicked === 0)
          .map((r) => ({ query: r.query, searches: r.searches })),
      );
      const shown = inWindow.flatMap((l) => l.items.map((i) => ({ l, i })));
      const engagement = (pairs: typeof shown) => ({
        impressions: pairs.length,
        clicks: pairs.filter(({ l, i }) => acted(l, i.couponId, 'click')).length,
        saves: pairs.filter(({ l, i }) => acted(l, i.couponId, 'save')).length,
        redemptions: pairs.filter(({ l, i }) => acted(l, i.couponId, 'redeem')).length,
      });
      const couponIds = [...new Set(shown.map((x) => x.i.couponId))];
      expect(got.coupons).toEqual(
        order(
          couponIds.map((couponId) => ({ couponId, ...engagement(shown.filter((x) => x.i.couponId === couponId)) })),
          (r) => r.clicks,
          (r) => r.couponId,
        ),
      );
      const merchantIds = [...new Set(shown.map((x) => x.i.merchantId!))];
      expect(got.merchants).toEqual(
        order(
          merchantIds.map((merchantId) => ({ merchantId, ...engagement(shown.filter((x) => x.i.merchantId === merchantId)) })),
          (r) => r.clicks,
          (r) => r.merchantId,
        ),
      );
      const searchShown = shown.filter((x) => x.l.surface === 'search');
      const positions = [...new Set(searchShown.map((x) => x.i.position))].sort((a, b) => a - b);
      expect(got.positions).toEqual(
        positions.map((position) => {
          const at = searchShown.filter((x) => x.i.position === position);
          return { position, impressions: at.length, clicks: at.filter(({ l, i }) => acted(l, i.couponId, 'click')).length };
        }),
      );
      const dayNames = [...new Set(searches.map((l) => l.ts.slice(0, 10)))].sort();
      expect(got.days).toEqual(
        dayNames.map((day) => {
          const ls = searches.filter((l) => l.ts.startsWith(day));
          return { day, searches: ls.length, clicked: ls.filter((l) => listDid(l, 'click')).length };
        }),
      );
      expect(got.days.length).toBeGreaterThan(2);
      expect(got.queries.length).toBeGreaterThan(3);
      expect(got.noResults.map((r) => r.query)).toContain('zzz nothing');
      const byRedemptions = await store.analytics({ ...window, limit: 3, by: 'redemptions' });
      expect(byRedemptions.coupons).toHaveLength(3);
      expect(byRedemptions.coupons[0]!.redemptions).toBe(Math.max(...got.coupons.map((c) => c.redemptions)));
    });
  });
}
