/**
 * Filter semantics, property-based: random filter ASTs over a random coupon set; the coupons the
 * LanceDB store returns must be exactly those the reference evaluator (`matchesFilter`) selects.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import { matchesFilter } from '../../src/domain/filter.ts';
import { LanceDbStore } from '../../src/store/lancedb/lancedb-store.ts';
import { randomUnitVectors } from '../support/coupons.ts';
import { filterArb, N, randomCoupons } from '../support/filter-arbitraries.ts';
import { tempDir } from '../support/tmp.ts';

let store: LanceDbStore;
let coupons: Coupon[];
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempDir('filter-props-');
  cleanup = t.cleanup;
  store = new LanceDbStore({ dir: t.dir, readConsistencyMs: 0, annThreshold: 5000, rowCacheSize: 10_000 });
  await store.open({ embedderId: 'props', dims: 8, textVersion: 1 });
  coupons = randomCoupons();
  const vectors = randomUnitVectors(N, 8, 77);
  await store.upsert(coupons.map((coupon, i) => ({ coupon, vector: vectors[i]! })));
});

afterAll(async () => {
  await store?.close();
  await cleanup?.();
});

it('LanceDB selects exactly what the reference evaluator selects (500 random filters)', async () => {
  const [query] = randomUnitVectors(1, 8, 5);
  let nonTrivial = 0;
  await fc.assert(
    fc.asyncProperty(filterArb, async (filter) => {
      const expected = coupons
        .filter((c) => matchesFilter(c, filter))
        .map((c) => c.id)
        .sort();
      if (expected.length > 0 && expected.length < N) nonTrivial++;
      const got = (await store.knn(query!, { k: N, filter })).map((h) => h.id).sort();
      expect(got).toEqual(expected);
    }),
    { numRuns: 500, seed: 42 },
  );
  expect(nonTrivial).toBeGreaterThan(250); // the filters actually discriminate
});
