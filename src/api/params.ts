import { z } from 'zod';
import { idSchema } from '../domain/coupon.ts';
import { allOf, filterSchema, type Filter } from '../domain/filter.ts';
import { parseOrThrow } from '../domain/validation.ts';
import { ValidationError } from '../errors.ts';
import { FACET_NAMES } from '../search/facets.ts';
import { SORT_ORDERS } from '../search/sort-order.ts';

/** Query strings arrive as strings (or arrays when repeated); schemas here coerce and bound them. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string | string[] | undefined>): z.output<S> {
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw new ValidationError([{ field: key, message: 'must appear once (use a comma-separated list)' }]);
  }
  // The API key may ride in the query string (widgets, beacons); access control has read it.
  const { api_key: _key, ...rest } = query;
  return parseOrThrow(schema, rest);
}

export function parseId(value: string | undefined, field = 'id'): string {
  return parseOrThrow(idSchema, value, field);
}

const csv = z
  .string()
  .max(2000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().min(1).max(128)).min(1, 'needs at least one value').max(50));
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const lat = z.coerce.number().min(-90).max(90);
const lon = z.coerce.number().min(-180).max(180);

export const MAX_LIMIT = 100;
export const MAX_OFFSET = 1000;
const paging = {
  /** @defaultValue 10 */
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(10),
  /** @defaultValue 0 */
  offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
  /** @defaultValue false */
  explain: bool.default(false),
};
const query = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');

/** Where the shopper is and how far they will go: origin for distances, radius for the filter. */
const place = {
  lat: lat.optional(),
  lon: lon.optional(),
  radius_km: z.coerce.number().gt(0).max(20_000).optional(),
};

function checkPlace(p: { lat?: number | undefined; lon?: number | undefined; radius_km?: number | undefined }, ctx: z.RefinementCtx): void {
  if ((p.lat === undefined) !== (p.lon === undefined))
    ctx.addIssue({ code: 'custom', path: [p.lat === undefined ? 'lat' : 'lon'], message: 'lat and lon go together' });
  if (p.radius_km !== undefined && p.lat === undefined) ctx.addIssue({ code: 'custom', path: ['radius_km'], message: 'needs lat and lon' });
}

/** The shopper, for personal ranking signals (optional everywhere). */
const userId = idSchema.optional();

/** Correct unknown query words against the catalogue. @defaultValue true */
const typoTolerance = { typo_tolerance: bool.default(true) };
/** The order of the results. @defaultValue 'relevance' */
const sort = z.enum(SORT_ORDERS).default('relevance');

/** Read coupon phrases ("half price", "under $15") as filters and boosts. @defaultValue true */
const understand = { understand: bool.default(true) };
const facetList = z.array(z.enum(FACET_NAMES)).min(1, 'needs at least one facet').max(FACET_NAMES.length);
/** `facets=category,merchant,discount,distance`. */
const facetsParam = csv.pipe(facetList).transform((f) => [...new Set(f)]);

/** `sort=distance` and the distance facet need a place to measure from. */
function checkSort(p: { sort: string; lat?: number | undefined; facets?: readonly string[] | undefined }, ctx: z.RefinementCtx): void {
  if (p.sort === 'distance' && p.lat === undefined) ctx.addIssue({ code: 'custom', path: ['sort'], message: 'sort=distance needs lat and lon' });
  if (p.facets?.includes('distance') && p.lat === undefined)
    ctx.addIssue({ code: 'custom', path: ['facets'], message: 'the distance facet needs lat and lon' });
}

export const searchQuerySchema = z
  .strictObject({
    q: query,
    ...typoTolerance,
    ...understand,
    facets: facetsParam.optional(),
    sort,
    user_id: userId,
    category: csv.optional(),
    merchant: csv.optional(),
    min_discount: z.coerce.number().min(0).max(100).optional(),
    ...place,
    ...paging,
  })
  .superRefine(checkPlace)
  .superRefine(checkSort);

export const searchBodySchema = z
  .strictObject({
    q: query,
    typo_tolerance: z.boolean().default(true),
    understand: z.boolean().default(true),
    facets: facetList.transform((f) => [...new Set(f)]).optional(),
    sort,
    user_id: userId,
    filter: filterSchema.optional(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).default(10),
    offset: z.number().int().min(0).max(MAX_OFFSET).default(0),
    explain: z.boolean().default(false),
  })
  .superRefine(checkPlace)
  .superRefine(checkSort);

export const suggestQuerySchema = z.strictObject({
  q: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  /** @defaultValue 8 */
  limit: z.coerce.number().int().min(1).max(20).default(8),
});

export const similarQuerySchema = z
  .strictObject({
    ...place,
    category: csv.optional(),
    /** Neighbours by text, by behaviour (the recommender's coupon vectors), or both fused. @defaultValue 'content' */
    mode: z.enum(['content', 'behavior', 'blend']).default('content'),
    user_id: userId,
    ...paging,
  })
  .superRefine(checkPlace);

/** Radius of "near me" when a feed request has a location but no radius_km. */
export const DEFAULT_FEED_RADIUS_KM = 50;

export const recommendationsQuerySchema = z
  .strictObject({
    ...place,
    category: csv.optional(),
    min_discount: z.coerce.number().min(0).max(100).optional(),
    /** The shopper's latest search, as context when the recommender cannot place them yet. */
    q: z.string().trim().max(500, 'must be at most 500 characters').optional(),
    ...paging,
  })
  .superRefine(checkPlace);

export const writeQuerySchema = z.strictObject({
  /** Wait for the job to finish (up to 30 s) before answering. @defaultValue false */
  wait: bool.default(false),
});

/** The filter the GET parameters describe. */
export function filterFromParams(p: {
  category?: string[] | undefined;
  merchant?: string[] | undefined;
  min_discount?: number | undefined;
  lat?: number | undefined;
  lon?: number | undefined;
  radius_km?: number | undefined;
}): Filter | undefined {
  return allOf(
    p.category && { category: p.category },
    p.merchant && { merchant: p.merchant },
    p.min_discount !== undefined ? { discount_pct: { gte: p.min_discount } } : undefined,
    p.radius_km !== undefined && p.lat !== undefined && p.lon !== undefined ? { geo: { lat: p.lat, lon: p.lon, radius_km: p.radius_km } } : undefined,
  );
}

export function originFromParams(p: { lat?: number | undefined; lon?: number | undefined }) {
  return p.lat !== undefined && p.lon !== undefined ? { lat: p.lat, lon: p.lon } : undefined;
}
