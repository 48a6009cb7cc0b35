import { createHash } from 'node:crypto';
import { discountPercent, type Coupon } from '../../domain/coupon.ts';
import { lexicalText } from '../../text/coupon-text.ts';
import { tokenize } from '../../text/tokenize.ts';
import { hashString } from '../../util/random.ts';
import { BEHAVIOR_DIMS } from '../vector-store.ts';

/**
 * How a coupon is laid out in Qdrant: a point whose id is a UUID derived from the coupon id, with
 * the dense vector `text`, the sparse vector `bm25`, and a payload holding the coupon itself plus a
 * flat field per filter (each with a payload index, see PAYLOAD_INDEXES).
 */
export const DENSE = 'text';
export const SPARSE = 'bm25';
/** Room for the recommender's coupon vectors beside the text vector. */
export const CF = 'cf';
export const CF_DIMS = BEHAVIOR_DIMS;
/** The vector of a user in the `<alias>_users` collection. */
export const USER = 'user';

export const PAYLOAD_INDEXES: ReadonlyArray<[field: string, schema: 'keyword' | 'float' | 'datetime' | 'geo' | 'bool']> = [
  ['coupon_id', 'keyword'],
  ['merchant_id', 'keyword'],
  ['categories', 'keyword'],
  ['tags', 'keyword'],
  ['region', 'keyword'],
  ['status', 'keyword'],
  ['discount_kind', 'keyword'],
  ['valid_from', 'datetime'],
  ['valid_until', 'datetime'],
  ['discount_pct', 'float'],
  ['final_price', 'float'],
  ['version', 'float'],
  ['locations', 'geo'],
  ['online', 'bool'],
  ['in_store', 'bool'],
];

/** A stable UUID (v5-shaped, from SHA-1) for a coupon id: Qdrant ids must be integers or UUIDs. */
export function pointId(couponId: string): string {
  const h = createHash('sha1').update(`coupon:${couponId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function toPayload(c: Coupon): Record<string, unknown> {
  return {
    coupon: c,
    coupon_id: c.id,
    version: c.version,
    merchant_id: c.merchant.id,
    categories: c.categories,
    tags: c.tags,
    ...(c.region !== undefined && { region: c.region }),
    status: c.status,
    discount_kind: c.discount.kind,
    discount_pct: discountPercent(c),
    ...(c.final_price !== undefined && { final_price: c.final_price }),
    valid_from: new Date(c.valid_from).toISOString(),
    valid_until: new Date(c.valid_until).toISOString(),
    locations: c.locations.map((p) => ({ lat: p.lat, lon: p.lon })),
    online: c.online,
    in_store: c.locations.length > 0,
  };
}

/** 32-bit FNV-1a, kept below 2^31 so every index is a valid uint32 on any client. */
export function termId(term: string): number {
  return hashString(term) & 0x7fffffff;
}

const K1 = 1.2;
const B = 0.75;
/** Typical token count of a coupon's lexical text, for BM25 length normalisation without a corpus pass. */
const AVG_DOC_LEN = 40;

export interface SparseVector {
  indices: number[];
  values: number[];
}

/**
 * The document side of BM25 as a sparse vector (term-frequency saturation with length
 * normalisation); Qdrant's `modifier: idf` multiplies in the inverse document frequency at query time.
 */
export function documentSparse(c: Coupon): SparseVector {
  const tokens = tokenize(lexicalText(c));
  const tf = new Map<number, number>();
  for (const t of tokens) tf.set(termId(t), (tf.get(termId(t)) ?? 0) + 1);
  const norm = K1 * (1 - B + (B * tokens.length) / AVG_DOC_LEN);
  const indices = [...tf.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => (tf.get(i)! * (K1 + 1)) / (tf.get(i)! + norm)) };
}

/** The query side: each distinct query term once. */
export function querySparse(query: string): SparseVector {
  const indices = [...new Set(tokenize(query).map(termId))].sort((a, b) => a - b);
  return { indices, values: indices.map(() => 1) };
}
