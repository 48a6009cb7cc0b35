import { assertNever, type Filter, type Range } from '../../domain/filter.ts';

/**
 * Compiles the filter AST to Qdrant's filter JSON over the payload written by `payload.ts`:
 * and → must, or → should, not → must_not; lists → match.any; ranges → range; validity →
 * datetime_range; a radius → geo_radius on the `locations` array (any point inside matches).
 * Qdrant's semantics for a missing field (no match, so `must_not` passes) equal the reference's.
 */
export type QdrantCondition = Record<string, unknown>;
export interface QdrantFilter {
  must?: QdrantCondition[];
  should?: QdrantCondition[];
  must_not?: QdrantCondition[];
}

const any = (key: string, values: readonly (string | boolean)[]) => ({ key, match: { any: values } });
const range = (key: string, r: Range) => ({ key, range: { ...(r.gte !== undefined && { gte: r.gte }), ...(r.lte !== undefined && { lte: r.lte }) } });

export function toQdrantFilter(filter: Filter | undefined): QdrantFilter | undefined {
  if (!filter) return undefined;
  const c = condition(filter);
  return 'must' in c || 'should' in c || 'must_not' in c ? (c as QdrantFilter) : { must: [c] };
}

function condition(f: Filter): QdrantCondition {
  if ('and' in f) return { must: f.and.map(condition) };
  if ('or' in f) return { should: f.or.map(condition) };
  if ('not' in f) return { must_not: [condition(f.not)] };
  if ('id' in f) return any('coupon_id', f.id);
  if ('category' in f) return any('categories', f.category);
  if ('merchant' in f) return any('merchant_id', f.merchant);
  if ('region' in f) return any('region', f.region);
  if ('tags_any' in f) return any('tags', f.tags_any);
  if ('tags_all' in f) return { must: f.tags_all.map((t) => ({ key: 'tags', match: { value: t } })) };
  if ('discount_kind' in f) return any('discount_kind', f.discount_kind);
  if ('status' in f) return any('status', f.status);
  if ('discount_pct' in f) return range('discount_pct', f.discount_pct);
  if ('final_price' in f) return range('final_price', f.final_price);
  if ('valid_at' in f) {
    const t = new Date(f.valid_at).toISOString();
    return {
      must: [
        { key: 'valid_from', datetime_range: { lte: t } },
        { key: 'valid_until', datetime_range: { gt: t } },
      ],
    };
  }
  if ('geo' in f) return { key: 'locations', geo_radius: { center: { lat: f.geo.lat, lon: f.geo.lon }, radius: f.geo.radius_km * 1000 } };
  if ('online' in f) return { key: 'online', match: { value: f.online } };
  if ('in_store' in f) return { key: 'in_store', match: { value: f.in_store } };
  // The stored coupon's own field (not indexed: a weekday narrows little, and it always comes with other conditions).
  if ('usable_on' in f) return any('coupon.usable_weekdays', f.usable_on);
  return assertNever(f);
}
