import { completeCoupon, couponSchema, type Coupon, type CouponInput } from '../../src/domain/coupon.ts';
import { gaussian, seededRandom } from '../../src/util/random.ts';

/** A valid coupon with overridable fields, parsed through the real schema. */
export function makeCoupon(id: string, overrides: Partial<CouponInput> = {}): Coupon {
  const input: CouponInput = {
    id,
    merchant: { id: 'm-1', name: 'Merchant One' },
    title: `Coupon ${id}`,
    categories: ['food'],
    discount: { kind: 'percent', value: 20 },
    valid_from: '2020-01-01T00:00:00Z',
    valid_until: '2099-01-01T00:00:00Z',
    locations: [{ lat: 40.7128, lon: -74.006 }],
    version: 1,
    ...overrides,
  };
  return completeCoupon(couponSchema.parse(input));
}

/** Seeded unit vectors. */
export function randomUnitVectors(count: number, dims: number, seed: number): Float32Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: dims }, () => gaussian(rand));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}
