import type { Coupon } from '../domain/coupon.ts';
import { discountPercent } from '../domain/coupon.ts';
import { randomProjection } from './features.ts';

/**
 * The coupon tower's content features, one versioned schema: category one-hot (over the
 * categories known at training time, plus "other"), discount depth, log price, online / in-store
 * flags, and the coupon's text embedding through the seeded 64-d random projection.
 */
export const COUPON_FEATURES_VERSION = 1;
export const TEXT_PROJECTION = { dims: 64, seed: 7 } as const;

export interface CouponFeatureSchema {
  version: number;
  categories: string[];
  textDims: number;
}

export function couponFeatureDims(schema: CouponFeatureSchema): number {
  return schema.categories.length + 1 + 4 + TEXT_PROJECTION.dims;
}

export function couponFeatures(schema: CouponFeatureSchema, coupon: Coupon, textVector: Float32Array): Float32Array {
  const out = new Float32Array(couponFeatureDims(schema));
  let known = false;
  for (const c of coupon.categories) {
    const i = schema.categories.indexOf(c);
    if (i >= 0) {
      out[i] = 1;
      known = true;
    }
  }
  if (!known) out[schema.categories.length] = 1;
  const base = schema.categories.length + 1;
  out[base] = discountPercent(coupon) / 100;
  out[base + 1] = Math.log1p(coupon.final_price ?? coupon.original_price ?? 0) / 7;
  out[base + 2] = coupon.online ? 1 : 0;
  out[base + 3] = coupon.locations.length > 0 ? 1 : 0;
  out.set(randomProjection([textVector], TEXT_PROJECTION.dims, TEXT_PROJECTION.seed)[0]!, base + 4);
  return out;
}
