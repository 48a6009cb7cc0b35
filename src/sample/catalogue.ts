import { completeCoupon, couponSchema, type Coupon, type CouponInput, type DiscountKind } from '../domain/coupon.ts';
import { pick, seededRandom } from '../util/random.ts';
import { CATEGORIES, type CategorySpec, type Offer } from './catalogue-offers.ts';

/**
 * A seeded generator of a realistic coupon catalogue for demos, tests and benchmarks.
 *
 * Its distributions follow the real Ponpare catalogue (19,413 coupons, read from
 * ../shared/data/ponpare-coupons when these constants were chosen; no row of it is reproduced):
 * percent discounts cluster at 50 % with a tail to ~80 % (quantiles 5/25/50/75/95 % = 50/50/53/65/81),
 * validity windows have a median of 128 days (5 % = 44, 95 % = 179), and the category mix leans
 * on food, delivery, travel and beauty. Places are real city centres with stores scattered nearby.
 */
export interface CatalogueOptions {
  size: number;
  /** @defaultValue 42 */
  seed?: number;
  /** Validity windows are placed around this instant (some already expired). @defaultValue now */
  anchor?: Date;
}

export const SAMPLE_CITIES = [
  { name: 'New York', region: 'us-ny', lat: 40.7128, lon: -74.006 },
  { name: 'Chicago', region: 'us-il', lat: 41.8781, lon: -87.6298 },
  { name: 'San Francisco', region: 'us-ca', lat: 37.7749, lon: -122.4194 },
  { name: 'Austin', region: 'us-tx', lat: 30.2672, lon: -97.7431 },
  { name: 'Seattle', region: 'us-wa', lat: 47.6062, lon: -122.3321 },
  { name: 'Miami', region: 'us-fl', lat: 25.7617, lon: -80.1918 },
  { name: 'Denver', region: 'us-co', lat: 39.7392, lon: -104.9903 },
  { name: 'Boston', region: 'us-ma', lat: 42.3601, lon: -71.0589 },
] as const;

export const SAMPLE_CATEGORIES = CATEGORIES.map((c) => c.name);

/** Percent-discount quantiles of the Ponpare catalogue (see header); sampled piecewise-uniformly. */
const PERCENT_QUANTILES = [
  [0, 30],
  [0.05, 50],
  [0.5, 50],
  [0.55, 53],
  [0.75, 65],
  [0.95, 81],
  [1, 90],
] as const;
/** Validity-window quantiles in days, same source. */
const VALIDITY_QUANTILES = [
  [0, 14],
  [0.05, 44],
  [0.25, 89],
  [0.5, 128],
  [0.75, 177],
  [1, 180],
] as const;

function fromQuantiles(rand: () => number, table: ReadonlyArray<readonly [number, number]>): number {
  const u = rand();
  for (let i = 1; i < table.length; i++) {
    const [p1, v1] = table[i]!,
      [p0, v0] = table[i - 1]!;
    if (u <= p1) return v0 + ((u - p0) / Math.max(p1 - p0, 1e-9)) * (v1 - v0);
  }
  return table.at(-1)![1];
}

interface Merchant {
  id: string;
  name: string;
  category: CategorySpec;
  offers: Offer[];
  city: (typeof SAMPLE_CITIES)[number];
  locations: Array<{ lat: number; lon: number }>;
  online: boolean;
}

function makeMerchants(rand: () => number, count: number): Merchant[] {
  const totalWeight = CATEGORIES.reduce((s, c) => s + c.weight, 0);
  const merchants: Merchant[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    // Spread categories by weight deterministically, so every category has merchants.
    let target = ((i + 0.5) / count) * totalWeight;
    const category = CATEGORIES.find((c) => (target -= c.weight) < 0) ?? CATEGORIES.at(-1)!;
    const names = category.groups.flatMap((g) => g.merchants.map((n) => ({ n, offers: g.offers })));
    const nth = seen.get(category.name) ?? 0;
    seen.set(category.name, nth + 1);
    const { n: base, offers } = names[nth % names.length]!;
    const city = SAMPLE_CITIES[Math.floor(rand() * SAMPLE_CITIES.length)]!;
    const branch = Math.floor(nth / names.length);
    const name = branch === 0 ? `${base}` : `${base} ${city.name}${branch > 1 ? ` ${branch}` : ''}`;
    const online = category.online === 'always' || (category.online === 'sometimes' && rand() < 0.3);
    const storeCount = category.online === 'always' && rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 3);
    // Stores within ~10 km of the city centre.
    const locations = Array.from({ length: storeCount }, () => ({
      lat: round5(city.lat + (rand() - 0.5) * 0.18),
      lon: round5(city.lon + (rand() - 0.5) * 0.22),
    }));
    merchants.push({ id: `m-${String(i + 1).padStart(4, '0')}`, name, category, offers, city, locations, online: online || locations.length === 0 });
  }
  return merchants;
}

/** Generates `size` coupons; the same options always give the same catalogue. */
export function generateCatalogue(options: CatalogueOptions): Coupon[] {
  const rand = seededRandom(options.seed ?? 42);
  const anchor = (options.anchor ?? new Date()).getTime();
  const merchants = makeMerchants(rand, Math.max(150, Math.round(options.size / 14)));
  const DAY = 86_400_000;
  const coupons: Coupon[] = [];
  for (let i = 0; i < options.size; i++) {
    const m = merchants[i % merchants.length]!;
    const offer = pick(rand, m.offers);
    const kind = pickKind(rand, m.category.name);
    const percent = Math.round(fromQuantiles(rand, PERCENT_QUANTILES));
    const price = round2(offer.price * (0.7 + rand() * 0.6));
    const amount = Math.max(5, Math.round((price * percent) / 100 / 5) * 5);
    const validDays = Math.round(fromQuantiles(rand, VALIDITY_QUANTILES));
    // About one in eight windows has already closed; some have not opened yet.
    const startOffsetDays = rand() < 0.12 ? -validDays - 1 - rand() * 60 : rand() < 0.05 ? 1 + rand() * 20 : -rand() * validDays * 0.8;
    const validFrom = anchor + startOffsetDays * DAY;
    const discount = kind === 'percent' ? { kind, value: percent } : kind === 'amount' ? { kind, value: amount } : { kind, value: 0 };
    const finalPrice = kind === 'percent' ? round2(price * (1 - percent / 100)) : kind === 'amount' ? round2(Math.max(0, price - amount)) : undefined;
    const input: CouponInput = {
      id: `cpn-${String(i + 1).padStart(6, '0')}`,
      merchant: { id: m.id, name: m.name },
      title: kind === 'bogo' ? `Buy one, get one: ${lowerFirst(offer.title)}` : offer.title,
      description: `${offer.description} Valid at ${m.name}${m.locations.length ? ` in ${m.city.name}` : ' online'}.`,
      categories: [m.category.name],
      tags: offer.tags,
      discount,
      original_price: price,
      ...(finalPrice !== undefined ? { final_price: finalPrice } : {}),
      currency: 'USD',
      valid_from: new Date(validFrom).toISOString(),
      valid_until: new Date(validFrom + validDays * DAY).toISOString(),
      usable_weekdays: rand() < 0.2 ? ['mon', 'tue', 'wed', 'thu', 'fri'] : ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      locations: m.locations,
      online: m.online,
      region: m.city.region,
      sponsored_boost: rand() < 0.05 ? round2(0.2 + rand() * 0.5) : 0,
      status: rand() < 0.03 ? 'paused' : 'active',
      updated_at: new Date(anchor - Math.floor(rand() * 30) * DAY).toISOString(),
    };
    coupons.push(completeCoupon(couponSchema.parse(input)));
  }
  return coupons;
}

function pickKind(rand: () => number, category: string): DiscountKind {
  const u = rand();
  if (category === 'fashion' || category === 'electronics') return u < 0.5 ? 'percent' : u < 0.8 ? 'amount' : 'free_shipping';
  if (category === 'food') return u < 0.6 ? 'percent' : u < 0.8 ? 'amount' : u < 0.95 ? 'bogo' : 'free_item';
  return u < 0.65 ? 'percent' : u < 0.92 ? 'amount' : 'bogo';
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round5 = (x: number) => Math.round(x * 1e5) / 1e5;
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** The demo page's pickers for the sample catalogue: its categories, cities and first simulated shoppers. */
export const SAMPLE_DEMO = {
  categories: SAMPLE_CATEGORIES,
  cities: SAMPLE_CITIES,
  shoppers: Array.from({ length: 8 }, (_, i) => `shopper-${String(i + 1).padStart(4, '0')}`),
};
