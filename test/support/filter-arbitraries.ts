import fc from 'fast-check';
import type { Coupon } from '../../src/domain/coupon.ts';
import type { Filter } from '../../src/domain/filter.ts';
import { makeCoupon } from './coupons.ts';

/** Random coupons and random filter ASTs over the same small value sets, so filters discriminate. */
export const CATEGORIES = ['food', 'spa', "o'reilly", 'a\\b', 'travel'];
const MERCHANTS = ['m1', 'm2', 'm3', 'm4'];
/** Filter values include ones no coupon can have (ids cannot hold quotes): they must match nothing. */
const MERCHANT_FILTER_VALUES = [...MERCHANTS, "m'4", "m1' OR '1'='1"];
const TAGS = ['x', 'y', 'z', 'DROP TABLE', '%'];
const REGIONS = ['r1', 'r2'];
const PLACES = [
  { lat: 40.7128, lon: -74.006 },
  { lat: 40.73, lon: -73.935 },
  { lat: 41.8781, lon: -87.6298 },
  { lat: 35.6762, lon: 139.6503 },
  // High latitude, and both sides of the antimeridian: where longitude bounds must not prune.
  { lat: 78.2232, lon: 15.6267 },
  { lat: -17.7134, lon: 179.9 },
  { lat: -17.7, lon: -179.95 },
];
export const N = 300;

export const couponArb = fc.record({
  categories: fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 2 }),
  merchant: fc.constantFrom(...MERCHANTS),
  tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
  region: fc.option(fc.constantFrom(...REGIONS), { nil: undefined }),
  kind: fc.constantFrom('percent', 'amount', 'bogo', 'free_shipping'),
  value: fc.integer({ min: 0, max: 100 }),
  finalPrice: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  from: fc.integer({ min: 0, max: 100 }),
  length: fc.integer({ min: 1, max: 100 }),
  places: fc.subarray(PLACES, { maxLength: 2 }),
  online: fc.boolean(),
  paused: fc.boolean(),
  weekdaysOnly: fc.boolean(),
});

export const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString();
const leaf: fc.Arbitrary<Filter> = fc.oneof(
  fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 2 }).map((category) => ({ category })),
  fc.uniqueArray(fc.constantFrom(...MERCHANT_FILTER_VALUES), { minLength: 1, maxLength: 2 }).map((merchant) => ({ merchant })),
  fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 2 }).map((tags_any) => ({ tags_any })),
  fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 2 }).map((tags_all) => ({ tags_all })),
  fc.uniqueArray(fc.constantFrom(...REGIONS), { minLength: 1 }).map((region) => ({ region })),
  fc.constantFrom<Filter>({ discount_kind: ['percent'] }, { discount_kind: ['bogo', 'amount'] }, { status: ['active'] }, { status: ['paused'] }),
  fc
    .record({ gte: fc.integer({ min: 0, max: 60 }), width: fc.integer({ min: 0, max: 60 }) })
    .map(({ gte, width }) => ({ discount_pct: { gte, lte: gte + width } })),
  fc.integer({ min: 0, max: 50 }).map((lte) => ({ final_price: { lte } })),
  fc.integer({ min: 0, max: 200 }).map((d) => ({ valid_at: day(d) })),
  fc
    .record({ p: fc.constantFrom(...PLACES), r: fc.constantFrom(1, 5, 10, 50, 1500, 12000) })
    .map(({ p, r }) => ({ geo: { lat: p.lat, lon: p.lon, radius_km: r } })),
  fc.boolean().map((online) => ({ online })),
  fc.boolean().map((in_store) => ({ in_store })),
  fc.constantFrom<Filter>({ usable_on: ['sat', 'sun'] }, { usable_on: ['mon'] }),
);
export const filterArb: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((and) => ({ and })),
    fc.array(tie('f'), { minLength: 1, maxLength: 3 }).map((or) => ({ or })),
    tie('f').map((not) => ({ not })),
  ),
})).f;

/** N seeded random coupons (the same every run). */
export function randomCoupons(n = N, seed = 1234): Coupon[] {
  return fc.sample(couponArb, { numRuns: n, seed }).map((s, i) =>
    makeCoupon(`p${i}`, {
      categories: s.categories,
      merchant: { id: s.merchant, name: s.merchant },
      tags: s.tags,
      region: s.region,
      discount: { kind: s.kind as 'percent', value: s.value },
      original_price: 50,
      final_price: s.finalPrice,
      valid_from: day(s.from),
      valid_until: day(s.from + s.length),
      locations: s.places,
      online: s.online || s.places.length === 0,
      status: s.paused ? 'paused' : 'active',
      usable_weekdays: s.weekdaysOnly ? ['mon', 'tue', 'wed', 'thu', 'fri'] : ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    }),
  );
}
