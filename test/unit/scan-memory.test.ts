/**
 * The serving index reuses a query's scores when the same query is searched again under another
 * filter (a facet's disjunctive retrieval beside the search's own). That must never change an
 * answer: each search is compared with an identical index that scores it afresh, for random
 * filter pairs, through the IVF lists and BM25, and with writes landing in between.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/domain/coupon.ts';
import type { Filter } from '../../src/domain/filter.ts';
import { MemoryIndex } from '../../src/store/serving/memory-index.ts';
import { ScanMemory } from '../../src/store/serving/scan-memory.ts';
import { randomUnitVectors } from '../support/coupons.ts';
import { filterArb, randomCoupons } from '../support/filter-arbitraries.ts';

const DIMS = 8;
const WORDS = ['pizza', 'sushi', 'massage', 'spa', 'burger', 'yoga', 'family', 'deal', 'night', 'coffee'];

function titled(coupons: Coupon[]): Coupon[] {
  return coupons.map((c, i) => ({
    ...c,
    title: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} ${i % 3 ? WORDS[(i * 3) % WORDS.length] : ''}`.trim(),
  }));
}

/** An index searched through its IVF lists (trained from 50 rows, a third of the rows probed). */
async function indexOf(coupons: Coupon[], vectors: Float32Array[]): Promise<MemoryIndex> {
  const index = new MemoryIndex(DIMS, { exactRows: 50, probeShare: 0.3 });
  coupons.forEach((coupon, i) => index.put({ coupon, vector: vectors[i]! }));
  await index.settled();
  return index;
}

const answer = (hits: Array<{ id: string; score: number }>) => hits.map((h) => [h.id, h.score]);

describe('a query searched again under another filter', () => {
  it('answers exactly what a fresh scan answers, also after writes in between (200 random filter pairs)', async () => {
    const coupons = titled(randomCoupons());
    const vectors = randomUnitVectors(coupons.length, DIMS, 7);
    const shared = await indexOf(coupons, vectors);
    const fresh = await indexOf(coupons, vectors);
    expect(shared.partitioned).toBe(true);
    const queries = randomUnitVectors(20, DIMS, 8);
    let run = 0;
    fc.assert(
      fc.property(filterArb, filterArb, fc.integer({ min: 1, max: 60 }), (first: Filter, second: Filter, k) => {
        const i = run++;
        const query = queries[i % queries.length]!;
        const words = `${WORDS[i % WORDS.length]} ${WORDS[(i + 4) % WORDS.length]}`;
        shared.knn(query, k, first, false);
        shared.search(words, k, first, false);
        // Every fifth pair, a write lands between the two searches (in both indexes alike).
        if (i % 5 === 4) {
          const [vector] = randomUnitVectors(1, DIMS, 100 + i);
          const coupon = { ...coupons[i % coupons.length]!, title: words, version: i };
          for (const index of [shared, fresh]) index.put({ coupon, vector: vector! });
        }
        // The fresh index gets a copy of the vector and the same words in a string it never saw
        // (scans are remembered by the vector object and by the text): it scores afresh.
        expect(answer(shared.knn(query, k, second, false))).toEqual(answer(fresh.knn(Float32Array.from(query), k, second, false)));
        expect(answer(shared.search(words, k, second, false))).toEqual(answer(fresh.search(`${words}${' '.repeat(1 + i)}`, k, second, false)));
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('scores afresh after the IVF partition is retrained in the background (a new epoch, no write)', async () => {
    const vectors = randomUnitVectors(10_000, DIMS, 9);
    const coupons = titled(randomCoupons(10_000, 5));
    const index = new MemoryIndex(DIMS, { exactRows: 50, probeShare: 0.3 });
    coupons.slice(0, 5000).forEach((coupon, i) => index.put({ coupon, vector: vectors[i]! }));
    await index.settled();
    // The rows double: a retraining starts, and yields to the event loop while it runs.
    coupons.slice(5000).forEach((coupon, i) => index.put({ coupon, vector: vectors[5000 + i]! }));
    const [query] = randomUnitVectors(1, DIMS, 10);
    const before = index.knn(query!, 50, undefined, false);
    await index.settled();
    const after = index.knn(query!, 50, undefined, false);
    expect(answer(after)).toEqual(answer(index.knn(Float32Array.from(query!), 50, undefined, false)));
    expect(answer(after)).not.toEqual(answer(before));
  });
});

describe('ScanMemory', () => {
  it('keeps a query’s blocks until a write (a new generation) or a new epoch, recycling its oldest entry', () => {
    const memory = new ScanMemory<string, Float64Array>((n) => new Float64Array(n), 2);
    const pizza = memory.entry('pizza', 1);
    pizza.append(Int32Array.of(3, 5), Float64Array.of(0.5, 0.25), 2);
    pizza.append(Int32Array.of(7, 9), Float64Array.of(0.125, 1), 1);
    const again = memory.entry('pizza', 1);
    expect(again.blocks).toBe(2);
    expect([again.start(1), again.end(1)]).toEqual([2, 3]);
    expect([...again.slots.subarray(0, 3)]).toEqual([3, 5, 7]);
    expect([...again.scores.subarray(0, 3)]).toEqual([0.5, 0.25, 0.125]);
    expect(memory.entry('pizza', 2).blocks).toBe(0);
    const epoch = {};
    memory.entry('sushi', 2, epoch).append(Int32Array.of(1), Float64Array.of(1), 1);
    expect(memory.entry('sushi', 2, epoch).blocks).toBe(1);
    expect(memory.entry('sushi', 2, {}).blocks).toBe(0);
    expect(memory.entry('pizza', 1).blocks).toBe(0);
  });
});
