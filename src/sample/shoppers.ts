import type { Coupon } from '../domain/coupon.ts';
import type { CouponEvent, EventType } from '../domain/event.ts';
import { haversineKm } from '../domain/geo.ts';
import { pick, seededRandom } from '../util/random.ts';
import { SAMPLE_CITIES } from './catalogue.ts';

/**
 * Seeded simulated shoppers for the sample catalogue, so the recommender has interactions to learn
 * from before a marketplace has real ones (and tests have a known truth). Each shopper lives in a
 * city, likes two categories and mostly acts on coupons of those categories near home; every
 * session shows a few coupons (impressions), some get clicked, fewer saved or redeemed. With
 * `visitFocus`, a session is about one of the two (a pizza search at 7 pm is about tonight), so
 * what a shopper did last says more about their next click than the weeks before it.
 */
export interface Shopper {
  id: string;
  city: (typeof SAMPLE_CITIES)[number];
  likes: string[];
}

export function simulateShoppers(
  catalogue: readonly Coupon[],
  options: {
    shoppers?: number;
    sessions?: number;
    seed?: number;
    end?: Date;
    /** Share of a session's liked coupons drawn from the one category that visit is about. @defaultValue 0 (both alike) */
    visitFocus?: number;
  } = {},
): { shoppers: Shopper[]; events: CouponEvent[] } {
  const rand = seededRandom(options.seed ?? 11);
  const categories = [...new Set(catalogue.flatMap((c) => c.categories))].sort();
  const end = (options.end ?? new Date()).getTime();
  const shoppers: Shopper[] = Array.from({ length: options.shoppers ?? 400 }, (_, i) => {
    const first = pick(rand, categories);
    let second = pick(rand, categories);
    while (second === first) second = pick(rand, categories);
    return { id: `shopper-${String(i + 1).padStart(4, '0')}`, city: pick(rand, SAMPLE_CITIES), likes: [first, second] };
  });
  const near = (c: Coupon, s: Shopper) => c.online || c.locations.some((p) => haversineKm(p, s.city) < 40);
  const events: CouponEvent[] = [];
  let n = 0;
  for (const s of shoppers) {
    const liked = catalogue.filter((c) => c.categories.some((x) => s.likes.includes(x)) && near(c, s));
    for (let session = 0; session < (options.sessions ?? 8); session++) {
      const ts = end - Math.floor(rand() * 60) * 86_400_000 - Math.floor(rand() * 86_400_000);
      // Drawn only when asked for, so the default events stay as they were for a given seed.
      const topic = options.visitFocus ? pick(rand, s.likes) : undefined;
      const onTopic = topic ? liked.filter((c) => c.categories.includes(topic)) : [];
      for (let k = 0; k < 5; k++) {
        // 80 % of what a shopper is shown and acts on matches their taste.
        const pool = onTopic.length && rand() < options.visitFocus! ? onTopic : liked;
        const c = rand() < 0.8 && liked.length ? pick(rand, pool) : pick(rand, catalogue);
        const matches = c.categories.some((x) => s.likes.includes(x));
        const add = (type: EventType, offset: number) =>
          events.push({ event_id: `sim-${++n}`, user_id: s.id, coupon_id: c.id, type, ts: new Date(ts + offset).toISOString(), position: k });
        add('impression', k);
        if (rand() < (matches ? 0.5 : 0.05)) {
          add('click', 1000 + k);
          if (rand() < 0.3) add(rand() < 0.5 ? 'save' : 'redeem', 2000 + k);
        } else if (rand() < 0.05) add('dismiss', 1000 + k);
      }
    }
  }
  return { shoppers, events };
}
