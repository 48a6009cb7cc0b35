import { z } from 'zod';
import type { GeoPoint } from './geo.ts';

/**
 * The coupon as the marketplace sends it (snake_case on the wire, as in the HTTP API).
 * Defaults are written beside each field; `parseCoupon` is the one place they are applied.
 */
export const DISCOUNT_KINDS = ['percent', 'amount', 'bogo', 'free_item', 'free_shipping'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const COUPON_STATUSES = ['active', 'paused'] as const;

export type DiscountKind = (typeof DISCOUNT_KINDS)[number];
export type Weekday = (typeof WEEKDAYS)[number];
export type CouponStatus = (typeof COUPON_STATUSES)[number];

const ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1–128 characters of letters, digits, _ . @ -');
const shortText = z.string().trim().min(1, 'must not be empty').max(100);
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z' });

export const geoPointSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

export const discountSchema = z
  .strictObject({
    kind: z.enum(DISCOUNT_KINDS),
    /** percent: 0–100; amount: in `currency`; bogo / free_item / free_shipping: optional, ignored. @defaultValue 0 */
    value: z.number().min(0).max(1_000_000).default(0),
  })
  .refine((d) => d.kind !== 'percent' || d.value <= 100, { message: 'percent discount must be ≤ 100', path: ['value'] });

export const couponSchema = z
  .strictObject({
    id: idSchema,
    merchant: z.strictObject({ id: idSchema, name: shortText }),
    title: z.string().trim().min(1, 'must not be empty').max(300),
    /** @defaultValue '' */
    description: z.string().max(5000).default(''),
    categories: z.array(shortText).min(1, 'needs at least one category').max(10),
    /** @defaultValue [] */
    tags: z.array(shortText).max(30).default([]),
    discount: discountSchema,
    original_price: z.number().min(0).max(1e9).optional(),
    final_price: z.number().min(0).max(1e9).optional(),
    /** ISO 4217. @defaultValue 'USD' */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
      .default('USD'),
    valid_from: isoDate,
    valid_until: isoDate,
    /** @defaultValue every day */
    usable_weekdays: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .max(7)
      .default([...WEEKDAYS]),
    /** Physical places where the coupon can be redeemed. @defaultValue [] */
    locations: z.array(geoPointSchema).max(50).default([]),
    /** Redeemable online. @defaultValue false */
    online: z.boolean().default(false),
    region: shortText.optional(),
    /** Paid placement, 0–1; the rank stage may use it. @defaultValue 0 */
    sponsored_boost: z.number().min(0).max(1).default(0),
    /** @defaultValue 'active' */
    status: z.enum(COUPON_STATUSES).default('active'),
    /** @defaultValue the time of parsing */
    updated_at: isoDate.optional(),
    /** Monotonic version; a lower version never overwrites a higher one. @defaultValue updated_at in epoch ms */
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((c) => Date.parse(c.valid_until) > Date.parse(c.valid_from), {
    message: 'must be after valid_from',
    path: ['valid_until'],
  })
  .refine((c) => c.online || c.locations.length > 0, {
    message: 'a coupon needs at least one location or online: true',
    path: ['locations'],
  })
  .refine((c) => c.final_price === undefined || c.original_price === undefined || c.final_price <= c.original_price, {
    message: 'must not exceed original_price',
    path: ['final_price'],
  });

export type CouponInput = z.input<typeof couponSchema>;

/** A parsed coupon: defaults applied, `updated_at` and `version` always present. */
export type Coupon = Omit<z.output<typeof couponSchema>, 'updated_at' | 'version'> & {
  updated_at: string;
  version: number;
  locations: GeoPoint[];
};

/** Fills in `updated_at` and `version` after schema parsing (the only impure defaults). */
export function completeCoupon(parsed: z.output<typeof couponSchema>, now: Date = new Date()): Coupon {
  const updated_at = parsed.updated_at ?? now.toISOString();
  return { ...parsed, updated_at, version: parsed.version ?? Date.parse(updated_at) };
}

/**
 * The discount as a percentage of the original price, for filtering and ranking across kinds.
 * Prices win when both are given; otherwise the kind decides (bogo counts as 50 %).
 */
export function discountPercent(c: Pick<Coupon, 'discount' | 'original_price' | 'final_price'>): number {
  if (c.original_price && c.final_price !== undefined && c.original_price > 0) {
    return round2(100 * (1 - c.final_price / c.original_price));
  }
  switch (c.discount.kind) {
    case 'percent':
      return c.discount.value;
    case 'amount':
      return c.original_price ? round2(Math.min(100, (100 * c.discount.value) / c.original_price)) : 0;
    case 'bogo':
      return 50;
    case 'free_item':
      return 100;
    case 'free_shipping':
      return 0;
  }
}

/** Whether the coupon can be served at `at`: active and inside its validity window. */
export function isServable(c: Pick<Coupon, 'status' | 'valid_from' | 'valid_until'>, at: Date): boolean {
  const t = at.getTime();
  return c.status === 'active' && Date.parse(c.valid_from) <= t && t < Date.parse(c.valid_until);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
