import type { VectorStore } from '../store/vector-store.ts';
import type { CouponFacts } from './event-store.ts';

/** Category and merchant of coupons, read from the vector store, for user affinity counters. */
export function couponFacts(store: VectorStore, ids: string[]): ReturnType<CouponFacts> {
  return store.get(ids).then((found) => new Map([...found].map(([id, { coupon }]) => [id, { categories: coupon.categories, merchantId: coupon.merchant.id }])));
}
