import { discountPercent, type Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import { type GeoPoint, nearestDistanceKm } from '../domain/geo.ts';

/** Facets a search can count (`facets=category,merchant,discount,distance`). */
export const FACET_NAMES = ['category', 'merchant', 'discount', 'distance'] as const;
export type FacetName = (typeof FACET_NAMES)[number];

export type FacetValue = { value: string; count: number };
/** The wire shape of `facets`: per facet, its values and their counts, most common first. */
export type FacetCounts = Partial<Record<FacetName, FacetValue[]>>;

/** "At least N % off" buckets; a coupon counts in every bucket it reaches. */
export const DISCOUNT_BUCKETS = [10, 25, 50, 75] as const;
/** "Within N km" buckets, by the nearest store. */
export const DISTANCE_BUCKETS_KM = [1, 5, 25] as const;
/** Values listed per category or merchant facet. */
export const MAX_FACET_VALUES = 50;

/** Whether a filter node constrains the facet's own field: such a node is left out when that facet is counted (disjunctive faceting). */
export function constrainsFacet(facet: FacetName, node: Filter): boolean {
  switch (facet) {
    case 'category':
      return 'category' in node;
    case 'merchant':
      return 'merchant' in node;
    case 'discount':
      return 'discount_pct' in node;
    case 'distance':
      return 'geo' in node;
  }
}

/**
 * Counts one facet over a set of coupons. Distance needs `origin`. Counted in one loop into a map
 * or per-bucket numbers, with no array or set per coupon: a faceted search counts several hundred
 * coupons per facet, and what it allocates brings the next young-generation collection closer.
 */
export function countFacet(facet: FacetName, coupons: readonly Coupon[], origin?: GeoPoint): FacetValue[] {
  switch (facet) {
    case 'category': {
      const counts = new Map<string, number>();
      for (const { categories } of coupons) {
        for (let i = 0; i < categories.length; i++) {
          const c = categories[i]!;
          // A category listed twice on one coupon counts once.
          if (categories.indexOf(c) === i) counts.set(c, (counts.get(c) ?? 0) + 1);
        }
      }
      return byCount(counts);
    }
    case 'merchant': {
      const counts = new Map<string, number>();
      for (const { merchant } of coupons) counts.set(merchant.id, (counts.get(merchant.id) ?? 0) + 1);
      return byCount(counts);
    }
    case 'discount':
      return bucketed(DISCOUNT_BUCKETS, coupons, discountPercent, (pct, bucket) => pct >= bucket);
    case 'distance':
      if (!origin) return [];
      return bucketed(
        DISTANCE_BUCKETS_KM,
        coupons,
        (c) => nearestDistanceKm(origin, c.locations) ?? Infinity,
        (km, bucket) => km <= bucket,
      );
  }
}

/** How many coupons fall in each bucket (a coupon counts in every bucket it reaches). */
function bucketed(
  buckets: readonly number[],
  coupons: readonly Coupon[],
  measure: (c: Coupon) => number,
  within: (value: number, bucket: number) => boolean,
): FacetValue[] {
  const counts = buckets.map(() => 0);
  for (const c of coupons) {
    const value = measure(c);
    for (let b = 0; b < buckets.length; b++) if (within(value, buckets[b]!)) counts[b]!++;
  }
  return buckets.map((b, i) => ({ value: String(b), count: counts[i]! }));
}

function byCount(counts: ReadonlyMap<string, number>): FacetValue[] {
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    .slice(0, MAX_FACET_VALUES);
}
