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

/** Counts one facet over a set of coupons. Distance needs `origin`. */
export function countFacet(facet: FacetName, coupons: readonly Coupon[], origin?: GeoPoint): FacetValue[] {
  switch (facet) {
    case 'category':
      return byCount(coupons.flatMap((c) => [...new Set(c.categories)]));
    case 'merchant':
      return byCount(coupons.map((c) => c.merchant.id));
    case 'discount': {
      const pct = coupons.map((c) => discountPercent(c));
      return DISCOUNT_BUCKETS.map((b) => ({ value: String(b), count: pct.filter((p) => p >= b).length }));
    }
    case 'distance': {
      if (!origin) return [];
      const km = coupons.map((c) => nearestDistanceKm(origin, c.locations) ?? Infinity);
      return DISTANCE_BUCKETS_KM.map((b) => ({ value: String(b), count: km.filter((d) => d <= b).length }));
    }
  }
}

function byCount(values: readonly string[]): FacetValue[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    .slice(0, MAX_FACET_VALUES);
}
