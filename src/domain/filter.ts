import { z } from 'zod';
import {
  COUPON_STATUSES,
  DISCOUNT_KINDS,
  discountPercent,
  idSchema,
  WEEKDAYS,
  type Coupon,
  type CouponStatus,
  type DiscountKind,
  type Weekday,
} from './coupon.ts';
import { haversineKm } from './geo.ts';

/**
 * The filter AST: one node is an object with exactly one key. Leaves match "any of" a list, a
 * numeric range, a point in time or a circle; `and` / `or` / `not` combine them. Stores compile it
 * (LanceDB to SQL, Qdrant to its filter JSON); `matchesFilter` below is the reference semantics
 * that both compilations are tested against.
 *
 * Example: {"and":[{"category":["food"]},{"geo":{"lat":40.7,"lon":-74,"radius_km":5}},
 *          {"not":{"merchant":["m-12"]}}]}
 */
export interface Range {
  gte?: number | undefined;
  lte?: number | undefined;
}
export interface GeoRadius {
  lat: number;
  lon: number;
  radius_km: number;
}

export type Filter =
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter }
  | { id: string[] }
  | { category: string[] }
  | { merchant: string[] }
  | { region: string[] }
  | { tags_any: string[] }
  | { tags_all: string[] }
  | { discount_kind: DiscountKind[] }
  | { status: CouponStatus[] }
  /** Effective discount in percent (see `discountPercent`). */
  | { discount_pct: Range }
  | { final_price: Range }
  /** Active window contains this instant: valid_from ≤ t < valid_until. */
  | { valid_at: string }
  /** Any of the coupon's locations lies within the circle. */
  | { geo: GeoRadius }
  | { online: boolean }
  /** Has at least one physical location. */
  | { in_store: boolean }
  /** Usable on any of these weekdays (`usable_weekdays`). */
  | { usable_on: Weekday[] };

const MAX_LIST = 200;
const MAX_DEPTH = 8;
const value = z.string().min(1).max(128);
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'needs at least one value').max(MAX_LIST);
const rangeSchema = z
  .strictObject({ gte: z.number().finite().optional(), lte: z.number().finite().optional() })
  .refine((r) => r.gte !== undefined || r.lte !== undefined, 'needs gte or lte')
  .refine((r) => r.gte === undefined || r.lte === undefined || r.gte <= r.lte, 'gte must be ≤ lte');

export const geoRadiusSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  radius_km: z.number().gt(0, 'must be > 0').max(20_000, 'must be ≤ 20000'),
});

/**
 * Each node is validated by the schema of its one key, so errors carry the full path of the bad
 * field (`filter.and.1.geo.radius_km`) instead of a vague "no union member matched".
 */
export const FILTER_NODE_SCHEMAS: Record<string, z.ZodType> = {
  and: z
    .array(z.lazy(() => filterSchema))
    .min(1)
    .max(50),
  or: z
    .array(z.lazy(() => filterSchema))
    .min(1)
    .max(50),
  not: z.lazy(() => filterSchema),
  id: list(idSchema),
  category: list(value),
  merchant: list(value),
  region: list(value),
  tags_any: list(value),
  tags_all: list(value),
  discount_kind: list(z.enum(DISCOUNT_KINDS)),
  status: list(z.enum(COUPON_STATUSES)),
  discount_pct: rangeSchema,
  final_price: rangeSchema,
  valid_at: z.iso.datetime({ offset: true }),
  geo: geoRadiusSchema,
  online: z.boolean(),
  in_store: z.boolean(),
  usable_on: z.array(z.enum(WEEKDAYS)).min(1, 'needs at least one value').max(7),
};
const NODE_KEYS = Object.keys(FILTER_NODE_SCHEMAS).join(', ');

export const filterSchema: z.ZodType<Filter> = z
  .unknown()
  .transform((input, ctx) => {
    const keys = input && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input) : [];
    if (keys.length !== 1 || !FILTER_NODE_SCHEMAS[keys[0]!]) {
      ctx.addIssue({ code: 'custom', message: `a filter node is an object with exactly one of: ${NODE_KEYS}` });
      return z.NEVER;
    }
    const key = keys[0]!;
    const result = FILTER_NODE_SCHEMAS[key]!.safeParse((input as Record<string, unknown>)[key]);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path] });
      return z.NEVER;
    }
    return { [key]: result.data } as Filter;
  })
  .refine((f) => depth(f) <= MAX_DEPTH, `filters nest at most ${MAX_DEPTH} levels`) as unknown as z.ZodType<Filter>;

function depth(f: Filter): number {
  if ('and' in f) return 1 + Math.max(0, ...f.and.map(depth));
  if ('or' in f) return 1 + Math.max(0, ...f.or.map(depth));
  if ('not' in f) return 1 + depth(f.not);
  return 1;
}

/** Combines filters with `and`, dropping undefined ones; undefined when none remain. */
export function allOf(...filters: Array<Filter | undefined>): Filter | undefined {
  const present = filters.filter((f): f is Filter => f !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return { and: present };
}

/** The top-level conjuncts of a filter (nested `and`s flattened). */
export function conjuncts(filter: Filter | undefined): Filter[] {
  if (!filter) return [];
  return 'and' in filter ? filter.and.flatMap(conjuncts) : [filter];
}

/** What every served result must satisfy: active and valid now. */
export function servableAt(at: Date): Filter {
  return { and: [{ status: ['active'] }, { valid_at: at.toISOString() }] };
}

function inRange(x: number | undefined, r: Range): boolean {
  if (x === undefined) return false;
  return (r.gte === undefined || x >= r.gte) && (r.lte === undefined || x <= r.lte);
}

/** The reference semantics of the AST, evaluated on one coupon. */
export function matchesFilter(c: Coupon, f: Filter): boolean {
  if ('and' in f) return f.and.every((g) => matchesFilter(c, g));
  if ('or' in f) return f.or.some((g) => matchesFilter(c, g));
  if ('not' in f) return !matchesFilter(c, f.not);
  if ('id' in f) return f.id.includes(c.id);
  if ('category' in f) return c.categories.some((x) => f.category.includes(x));
  if ('merchant' in f) return f.merchant.includes(c.merchant.id);
  if ('region' in f) return c.region !== undefined && f.region.includes(c.region);
  if ('tags_any' in f) return c.tags.some((t) => f.tags_any.includes(t));
  if ('tags_all' in f) return f.tags_all.every((t) => c.tags.includes(t));
  if ('discount_kind' in f) return f.discount_kind.includes(c.discount.kind);
  if ('status' in f) return f.status.includes(c.status);
  if ('discount_pct' in f) return inRange(discountPercent(c), f.discount_pct);
  if ('final_price' in f) return inRange(c.final_price, f.final_price);
  if ('valid_at' in f) {
    const t = Date.parse(f.valid_at);
    return Date.parse(c.valid_from) <= t && t < Date.parse(c.valid_until);
  }
  if ('geo' in f) return c.locations.some((p) => haversineKm(p, f.geo) <= f.geo.radius_km);
  if ('online' in f) return c.online === f.online;
  if ('in_store' in f) return c.locations.length > 0 === f.in_store;
  if ('usable_on' in f) return c.usable_weekdays.some((d) => f.usable_on.includes(d));
  return assertNever(f);
}

export function assertNever(x: never): never {
  throw new Error(`unhandled filter node ${JSON.stringify(x)}`);
}
