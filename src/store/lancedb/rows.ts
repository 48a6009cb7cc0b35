import { Bool, Field, FixedSizeList, Float32, Float64, List, Schema, Utf8 } from 'apache-arrow';
import { discountPercent, type Coupon } from '../../domain/coupon.ts';
import { lexicalText } from '../../text/coupon-text.ts';
import { BEHAVIOR_DIMS, type IndexedCoupon } from '../vector-store.ts';
import { cellsForLocations } from './geohash.ts';

/**
 * The LanceDB row of a coupon: the coupon itself as JSON (`doc`, the source of truth for reads),
 * its vector, the lexical text for the full-text index, and flat columns for every filterable field.
 * No column is nullable: absent values get a neutral value and a flag (see filter-sql.ts).
 */
export function couponSchema(dims: number): Schema {
  const strings = () => new List(new Field('item', new Utf8(), true));
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('version', new Float64(), false),
    new Field('vector', new FixedSizeList(dims, new Field('item', new Float32(), true)), false),
    new Field('cf', new FixedSizeList(BEHAVIOR_DIMS, new Field('item', new Float32(), true)), false),
    new Field('has_cf', new Bool(), false),
    new Field('text', new Utf8(), false),
    new Field('doc', new Utf8(), false),
    new Field('merchant_id', new Utf8(), false),
    new Field('categories', strings(), false),
    new Field('tags', strings(), false),
    new Field('region', new Utf8(), false),
    new Field('discount_kind', new Utf8(), false),
    new Field('status', new Utf8(), false),
    new Field('discount_pct', new Float64(), false),
    new Field('has_final_price', new Bool(), false),
    new Field('final_price', new Float64(), false),
    new Field('valid_from_ms', new Float64(), false),
    new Field('valid_until_ms', new Float64(), false),
    new Field('online', new Bool(), false),
    new Field('in_store', new Bool(), false),
    new Field('geo_cells', strings(), false),
  ]);
}

export type CouponRow = ReturnType<typeof toRow>;

export function toRow({ coupon: c, vector, behavior }: IndexedCoupon) {
  return {
    id: c.id,
    version: c.version,
    vector,
    cf: behavior ?? new Float32Array(BEHAVIOR_DIMS),
    has_cf: behavior !== undefined,
    text: lexicalText(c),
    doc: JSON.stringify(c),
    merchant_id: c.merchant.id,
    categories: c.categories,
    tags: c.tags,
    region: c.region ?? '',
    discount_kind: c.discount.kind,
    status: c.status,
    discount_pct: discountPercent(c),
    has_final_price: c.final_price !== undefined,
    final_price: c.final_price ?? 0,
    valid_from_ms: Date.parse(c.valid_from),
    valid_until_ms: Date.parse(c.valid_until),
    online: c.online,
    in_store: c.locations.length > 0,
    geo_cells: cellsForLocations(c.locations),
  };
}

/** Arrow hands back vectors as Arrow vectors or typed arrays depending on the path; normalise. */
export function toFloat32(value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value && typeof (value as { toArray?: unknown }).toArray === 'function') {
    return Float32Array.from((value as { toArray(): ArrayLike<number> }).toArray());
  }
  return Float32Array.from(value as ArrayLike<number>);
}

/** The users table: one behaviour vector per user. */
export function userSchema(): Schema {
  return new Schema([new Field('id', new Utf8(), false), new Field('vector', new FixedSizeList(BEHAVIOR_DIMS, new Field('item', new Float32(), true)), false)]);
}

export function fromDoc(doc: string): Coupon {
  return JSON.parse(doc) as Coupon;
}
