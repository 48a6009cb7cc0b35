import { matchesFilter, type Filter } from '../../src/domain/filter.ts';
import { dot } from '../../src/embed/embedder.ts';
import type { IndexedCoupon } from '../../src/store/vector-store.ts';

/** Exact kNN by brute force: the reference every store's kNN is checked against. */
export function exactKnn(docs: readonly IndexedCoupon[], query: Float32Array, k: number, filter?: Filter): Array<{ id: string; score: number }> {
  return docs
    .filter((d) => !filter || matchesFilter(d.coupon, filter))
    .map((d) => ({ id: d.coupon.id, score: dot(d.vector, query) }))
    .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
    .slice(0, k);
}
