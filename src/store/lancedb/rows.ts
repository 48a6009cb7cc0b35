import type { Data, Schema, Table } from 'apache-arrow';
import { discountPercent, type Coupon } from '../../domain/coupon.ts';
import { lexicalText } from '../../text/coupon-text.ts';
import { BEHAVIOR_DIMS, type IndexedCoupon } from '../vector-store.ts';
import { arrow } from './arrow.ts';
import { boolColumn, float64Column, tableOf, utf8Column, utf8ListColumn, vectorColumn } from './arrow-columns.ts';
import { cellsForLocations } from './geohash.ts';

/**
 * The LanceDB row of a coupon: the coupon itself as JSON (`doc`, the source of truth for reads),
 * its vector, the lexical text for the full-text index, and flat columns for every filterable field.
 * No column is nullable: absent values get a neutral value and a flag (see filter-sql.ts).
 */
export function couponSchema(dims: number): Schema {
  const { Bool, Field, FixedSizeList, Float32, Float64, List, Schema, Utf8 } = arrow;
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

/**
 * The rows of these coupons as one Arrow record batch of `schema` (from `couponSchema`), built
 * column by column (arrow-columns.ts). What each column holds is defined here and nowhere else.
 */
export function couponTable(docs: readonly IndexedCoupon[], schema: Schema): Table {
  const n = docs.length;
  const typeOf = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const strings = (name: string, value: (c: Coupon) => string): [string, Data] => [
    name,
    utf8Column(
      typeOf(name),
      docs.map((d) => value(d.coupon)),
    ),
  ];
  const lists = (name: string, value: (c: Coupon) => readonly string[]): [string, Data] => [
    name,
    utf8ListColumn(
      typeOf(name),
      docs.map((d) => value(d.coupon)),
    ),
  ];
  const bools = (name: string, value: (d: IndexedCoupon) => boolean): [string, Data] => [name, boolColumn(typeOf(name), docs.map(value))];
  const numbers = (name: string, value: (c: Coupon) => number): [string, Data] => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = value(docs[i]!.coupon);
    return [name, float64Column(typeOf(name), out)];
  };
  const vectors = (name: string, value: (d: IndexedCoupon) => Float32Array): [string, Data] => [name, vectorColumn(typeOf(name), docs.map(value))];
  const noBehavior = new Float32Array(BEHAVIOR_DIMS);
  return tableOf(
    schema,
    new Map([
      strings('id', (c) => c.id),
      numbers('version', (c) => c.version),
      vectors('vector', (d) => d.vector),
      vectors('cf', (d) => d.behavior ?? noBehavior),
      bools('has_cf', (d) => d.behavior !== undefined),
      strings('text', lexicalText),
      strings('doc', (c) => JSON.stringify(c)),
      strings('merchant_id', (c) => c.merchant.id),
      lists('categories', (c) => c.categories),
      lists('tags', (c) => c.tags),
      strings('region', (c) => c.region ?? ''),
      strings('discount_kind', (c) => c.discount.kind),
      strings('status', (c) => c.status),
      numbers('discount_pct', discountPercent),
      bools('has_final_price', (d) => d.coupon.final_price !== undefined),
      numbers('final_price', (c) => c.final_price ?? 0),
      numbers('valid_from_ms', (c) => Date.parse(c.valid_from)),
      numbers('valid_until_ms', (c) => Date.parse(c.valid_until)),
      bools('online', (d) => d.coupon.online),
      bools('in_store', (d) => d.coupon.locations.length > 0),
      lists('geo_cells', (c) => cellsForLocations(c.locations)),
    ]),
  );
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
  const { Field, FixedSizeList, Float32, Schema, Utf8 } = arrow;
  return new Schema([new Field('id', new Utf8(), false), new Field('vector', new FixedSizeList(BEHAVIOR_DIMS, new Field('item', new Float32(), true)), false)]);
}

export function fromDoc(doc: string): Coupon {
  return JSON.parse(doc) as Coupon;
}
