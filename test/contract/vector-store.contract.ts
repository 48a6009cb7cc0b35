import { afterEach, describe, expect, it } from 'vitest';
import type { Filter } from '../../src/domain/filter.ts';
import { BEHAVIOR_DIMS, type IndexedCoupon, type VectorSpace, type VectorStore } from '../../src/store/vector-store.ts';
import { matchesFilter } from '../../src/domain/filter.ts';
import { dot } from '../../src/embed/embedder.ts';
import { makeCoupon, randomUnitVectors } from '../support/coupons.ts';
import { exactKnn } from '../support/oracle.ts';

export interface StoreHandle {
  store: VectorStore;
  /** Removes whatever the store created (temp dir, collection). */
  dispose(): Promise<void>;
}

/** Builds a new, empty store with unique storage; `annThreshold` asks for an ANN index from that size. */
export type StoreFactory = (options: { annThreshold?: number }) => Promise<StoreHandle>;

const DIMS = 16;
export const SPACE: VectorSpace = { embedderId: 'test@1', dims: DIMS, textVersion: 1 };
const CITIES = [
  { lat: 40.7128, lon: -74.006 }, // New York
  { lat: 34.0522, lon: -118.2437 }, // Los Angeles
  { lat: 41.8781, lon: -87.6298 }, // Chicago
  { lat: 40.73, lon: -73.935 }, // Queens, ~8 km from Manhattan
];

/** A seeded corpus with varied categories, merchants, tags, discounts, places and validity. */
export function seededCorpus(n: number, seed = 7): IndexedCoupon[] {
  const vectors = randomUnitVectors(n, DIMS, seed);
  return vectors.map((vector, i) => ({
    vector,
    coupon: makeCoupon(`c${i}`, {
      merchant: { id: `m${i % 9}`, name: `Merchant ${i % 9}` },
      title: i % 5 === 0 ? `Pizza deal number ${i}` : `Haircut offer ${i}`,
      categories: i % 3 === 0 ? ['food', 'dining'] : i % 3 === 1 ? ['beauty'] : ["o'reilly's"],
      tags: i % 2 ? ['weekend'] : ['weekday', 'family'],
      discount: i % 4 === 0 ? { kind: 'amount', value: 10 } : { kind: 'percent', value: (i * 7) % 90 },
      original_price: 50,
      region: i % 6 === 0 ? undefined : `r${i % 3}`,
      locations: i % 7 === 0 ? [] : [CITIES[i % CITIES.length]!],
      online: i % 7 === 0 || i % 2 === 0,
      status: i % 11 === 0 ? 'paused' : 'active',
      valid_until: i % 13 === 0 ? '2021-01-01T00:00:00Z' : '2099-01-01T00:00:00Z',
    }),
  }));
}

const FILTERS: Array<[string, Filter]> = [
  ['category', { category: ['food'] }],
  ['quoted category', { category: ["o'reilly's"] }],
  ['merchant not', { not: { merchant: ['m1', 'm2'] } }],
  ['region (absent counts as not in)', { not: { region: ['r1'] } }],
  ['tags all', { tags_all: ['weekday', 'family'] }],
  ['discount range', { discount_pct: { gte: 30, lte: 70 } }],
  ['valid now and active', { and: [{ status: ['active'] }, { valid_at: '2026-06-01T00:00:00Z' }] }],
  ['geo 20 km of Manhattan', { geo: { lat: 40.7128, lon: -74.006, radius_km: 20 } }],
  ['geo 5 km excludes Queens', { geo: { lat: 40.7128, lon: -74.006, radius_km: 5 } }],
  ['not geo', { not: { geo: { lat: 40.7128, lon: -74.006, radius_km: 20 } } }],
  ['or of geo and online', { or: [{ geo: { lat: 41.8781, lon: -87.6298, radius_km: 10 } }, { online: true }] }],
  ['injection-like value', { category: ["food') OR TRUE OR ('"] }],
  ['backslash and keywords', { merchant: ['m1\\', "'; DROP TABLE coupons; --"] }],
];

export function describeVectorStore(name: string, factory: StoreFactory): void {
  describe(`VectorStore contract: ${name}`, () => {
    let handle: StoreHandle | undefined;
    const open = async (options: { annThreshold?: number } = {}) => {
      handle = await factory(options);
      await handle.store.open(SPACE);
      return handle.store;
    };
    afterEach(async () => {
      await handle?.store.close();
      await handle?.dispose();
      handle = undefined;
    });

    it('records the vector space it was created in', async () => {
      const store = await open();
      expect((await store.stats()).space).toEqual(SPACE);
    });

    it('reads back what it wrote, with vectors on request', async () => {
      const store = await open();
      const docs = seededCorpus(20);
      expect((await store.upsert(docs)).written).toHaveLength(20);
      const got = await store.get(['c3', 'c4', 'missing'], { withVectors: true });
      expect([...got.keys()].sort()).toEqual(['c3', 'c4']);
      expect(got.get('c3')!.coupon).toEqual(docs[3]!.coupon);
      expect(Array.from(got.get('c3')!.vector!)).toEqual(Array.from(docs[3]!.vector).map((x) => Math.fround(x)));
      expect((await store.stats()).count).toBe(20);
    });

    it('never lets an older or equal version overwrite a newer one', async () => {
      const store = await open();
      const [doc] = seededCorpus(1);
      const v = (version: number, title: string): IndexedCoupon => ({ vector: doc!.vector, coupon: { ...doc!.coupon, version, title } });
      await store.upsert([v(5, 'five')]);
      expect(await store.upsert([v(3, 'three')])).toEqual({ written: [], stale: ['c0'] });
      expect(await store.upsert([v(5, 'five again')])).toEqual({ written: [], stale: ['c0'] });
      expect((await store.get(['c0'])).get('c0')!.coupon.title).toBe('five');
      // In one batch, the newest of duplicates wins.
      const result = await store.upsert([v(9, 'nine'), v(7, 'seven')]);
      expect(result.written).toEqual(['c0']);
      expect((await store.get(['c0'])).get('c0')!.coupon.title).toBe('nine');
      expect((await store.stats()).count).toBe(1);
    });

    it('deletes by id', async () => {
      const store = await open();
      await store.upsert(seededCorpus(10));
      await store.delete(['c1', 'c2', 'never-existed']);
      expect((await store.stats()).count).toBe(8);
      expect((await store.get(['c1'])).size).toBe(0);
    });

    it('kNN equals the brute-force oracle, unfiltered and under every filter kind', async () => {
      const store = await open();
      const docs = seededCorpus(400);
      await store.upsert(docs);
      const [query] = randomUnitVectors(1, DIMS, 99);
      for (const [label, filter] of [['none', undefined] as const, ...FILTERS]) {
        const expected = exactKnn(docs, query!, 25, filter);
        const got = await store.knn(query!, { k: 25, filter });
        expect(
          got.map((h) => h.id),
          label,
        ).toEqual(expected.map((h) => h.id));
        got.forEach((h, i) => expect(h.score, label).toBeCloseTo(expected[i]!.score, 4));
      }
    });

    it('filters select exactly the coupons the reference evaluator selects', async () => {
      const store = await open();
      const docs = seededCorpus(200);
      await store.upsert(docs);
      const [query] = randomUnitVectors(1, DIMS, 5);
      for (const [label, filter] of FILTERS) {
        const expected = exactKnn(docs, query!, 1000, filter)
          .map((h) => h.id)
          .sort();
        const got = (await store.knn(query!, { k: 1000, filter })).map((h) => h.id).sort();
        expect(got, label).toEqual(expected);
      }
    });

    it('full-text search ranks term matches and honours the filter', async () => {
      const store = await open();
      const docs = seededCorpus(100);
      await store.upsert(docs);
      const hits = await store.lexical('pizza', { k: 50 });
      const pizzaIds = docs
        .filter((d) => d.coupon.title.startsWith('Pizza'))
        .map((d) => d.coupon.id)
        .sort();
      expect(hits.map((h) => h.id).sort()).toEqual(pizzaIds);
      expect(hits.every((h) => h.score > 0)).toBe(true);
      const filtered = await store.lexical('pizza', { k: 50, filter: { merchant: ['m0'] } });
      expect(filtered.length).toBeGreaterThan(0);
      expect(filtered.every((h) => h.coupon.merchant.id === 'm0')).toBe(true);
      expect(await store.lexical("pizza' OR 1=1 --", { k: 5, filter: { category: ["x') OR ('1'='1"] } })).toEqual([]);
    });

    it('full-text search sees rows written after its index was built', async () => {
      const store = await open();
      await store.upsert(seededCorpus(30));
      await store.lexical('pizza', { k: 5 });
      const late = seededCorpus(31).at(-1)!;
      await store.upsert([{ ...late, coupon: { ...late.coupon, id: 'late', title: 'Zucchini bread special' } }]);
      expect((await store.lexical('zucchini', { k: 5 })).map((h) => h.id)).toEqual(['late']);
    });

    it('serves kNN through an ANN index past the threshold, with recall@10 ≥ 0.9 against the oracle', async () => {
      const store = await open({ annThreshold: 1000 });
      const docs = seededCorpus(2000, 11);
      for (let i = 0; i < docs.length; i += 500) await store.upsert(docs.slice(i, i + 500));
      await store.optimize();
      expect((await store.stats()).annIndexed).toBe(true);
      const queries = randomUnitVectors(20, DIMS, 12);
      let found = 0;
      for (const q of queries) {
        const expected = new Set(exactKnn(docs, q, 10).map((h) => h.id));
        found += (await store.knn(q, { k: 10 })).filter((h) => expected.has(h.id)).length;
      }
      expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.9);
    });

    it('keeps the writes made beside a kNN index build that a streaming writer left running, and indexes them', async () => {
      const store = await open({ annThreshold: 1000 });
      const docs = seededCorpus(3000, 13);
      await store.upsert(docs.slice(0, 1500));
      await store.optimize({ streaming: true });
      for (let i = 1500; i < docs.length; i += 100) await store.upsert(docs.slice(i, i + 100));
      await store.optimize();
      const stats = await store.stats();
      expect(stats.annIndexed).toBe(true);
      expect(stats.count).toBe(docs.length);
      // The rows written during the build are found as the oracle finds them.
      let found = 0;
      const late = docs.slice(-20);
      for (const d of late) {
        const expected = new Set(exactKnn(docs, d.vector, 10).map((h) => h.id));
        found += (await store.knn(d.vector, { k: 10 })).filter((h) => expected.has(h.id)).length;
      }
      expect(found / (late.length * 10)).toBeGreaterThanOrEqual(0.9);
    });

    it('finds coupons by behaviour vector (dot product), only those that have one, under the filter', async () => {
      const store = await open();
      const docs = seededCorpus(120).map((d, i) =>
        i % 2 ? { ...d, behavior: randomUnitVectors(1, BEHAVIOR_DIMS, 1000 + i)[0]!.map((x) => x * (1 + (i % 5))) } : d,
      );
      await store.upsert(docs);
      const [q] = randomUnitVectors(1, BEHAVIOR_DIMS, 4242);
      const filters: Array<Filter | undefined> = [undefined, { category: ['food'] }, { geo: { lat: 40.7128, lon: -74.006, radius_km: 20 } }];
      for (const filter of filters) {
        const expected = docs
          .filter((d) => d.behavior && (!filter || matchesFilter(d.coupon, filter)))
          .map((d) => ({ id: d.coupon.id, score: dot(d.behavior!, q!) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10);
        const got = await store.knnBehavior(q!, { k: 10, filter });
        expect(
          got.map((h) => h.id),
          JSON.stringify(filter),
        ).toEqual(expected.map((h) => h.id));
        got.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 4));
      }
      const back = await store.get(['c1', 'c2'], { withVectors: true });
      expect(back.get('c1')!.behavior).toHaveLength(BEHAVIOR_DIMS);
      expect(back.get('c2')!.behavior).toBeUndefined();
    });

    it('stores user vectors and replaces them', async () => {
      const store = await open();
      const [a, b] = randomUnitVectors(2, BEHAVIOR_DIMS, 77);
      await store.upsertUsers(
        new Map([
          ['u1', a!],
          ["o'brien", b!],
        ]),
      );
      await store.upsertUsers(new Map([['u1', b!]]));
      const got = await store.getUsers(['u1', "o'brien", 'nobody']);
      expect([...got.keys()].sort()).toEqual(["o'brien", 'u1']);
      expect(Array.from(got.get('u1')!)).toEqual(Array.from(b!).map((x) => Math.fround(x)));
    });

    it('scans every row once while updates and compaction rewrite the table beside the scan', async () => {
      const store = await open();
      const docs = seededCorpus(600, 17);
      for (let i = 0; i < docs.length; i += 100) await store.upsert(docs.slice(i, i + 100));
      await store.optimize();
      const seen: string[] = [];
      let round = 0;
      for await (const batch of store.scan(50)) {
        seen.push(...batch.map((d) => d.coupon.id));
        // Between pages: newer versions of rows on both sides of the scan's position, then a compaction.
        const touched = [docs[round * 7]!, docs[599 - round * 11]!].map((d) => ({ ...d, coupon: { ...d.coupon, version: d.coupon.version + round + 1 } }));
        await store.upsert(touched);
        if (round % 3 === 2) await store.optimize({ streaming: true });
        round++;
      }
      expect(round).toBeGreaterThan(5);
      expect(seen.length).toBe(new Set(seen).size);
      expect(new Set(seen)).toEqual(new Set(docs.map((d) => d.coupon.id)));
    });

    it('scans everything and rebuilds into a new space atomically', async () => {
      const store = await open();
      const docs = seededCorpus(50);
      await store.upsert(docs);
      let scanned = 0;
      for await (const batch of store.scan(16)) scanned += batch.length;
      expect(scanned).toBe(50);
      const next: VectorSpace = { embedderId: 'test@2', dims: 8, textVersion: 2 };
      const rebuild = await store.beginRebuild(next);
      await rebuild.upsert(docs.slice(0, 10).map((d) => ({ coupon: d.coupon, vector: d.vector.slice(0, 8) })));
      expect((await store.stats()).count).toBe(50); // the old table serves until commit
      await rebuild.commit();
      const stats = await store.stats();
      expect(stats.count).toBe(10);
      expect(stats.space).toEqual(next);
    });
  });
}
