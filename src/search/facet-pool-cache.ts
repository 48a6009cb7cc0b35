import type { Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import { LruCache } from '../util/lru.ts';

/** How long a counted set is reused: counts this old are fine for a facet menu. */
const TTL_MS = 30_000;
const CAPACITY = 2000;

/**
 * The candidate sets recent faceted searches counted their facets over, by what they were
 * retrieved for: the query (as searched, after correction and synonyms), the API key's filter and
 * the caller's filter nodes. Faceted navigation goes one choice at a time — a search, then the
 * same search with one value chosen — so the set a chosen facet's disjunctive count needs (the
 * search without that choice) is usually the set the previous request counted. Reusing it costs
 * no retrieval, and the other values keep exactly the counts the shopper saw before choosing.
 */
export class FacetPoolCache {
  private readonly sets = new LruCache<string, { coupons: Coupon[]; until: number }>(CAPACITY);

  constructor(private readonly now: () => number = Date.now) {}

  /** The key of a retrieval: the query forms searched, the key's filter, and the caller's filter conjuncts (in any order). */
  key(query: readonly string[], keyFilter: Filter | undefined, nodes: readonly Filter[]): string {
    return JSON.stringify([query, keyFilter ?? null, nodes.map((n) => JSON.stringify(n)).sort()]);
  }

  remember(key: string, coupons: Coupon[]): void {
    this.sets.set(key, { coupons, until: this.now() + TTL_MS });
  }

  recall(key: string): Coupon[] | undefined {
    const hit = this.sets.get(key);
    return hit && hit.until > this.now() ? hit.coupons : undefined;
  }
}
