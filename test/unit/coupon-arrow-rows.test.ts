/**
 * The coupon rows the indexer commits, built column by column (`couponTable`), against LanceDB's own
 * conversion of the row objects they replaced (`makeArrowTable`), kept here as the oracle: every
 * column equal, value for value, on the sample catalogue and on coupons that reach the edges
 * (Japanese and emoji text, empty lists, no locations, several locations, a behaviour vector, no
 * region or final price).
 */
import { makeArrowTable } from '@lancedb/lancedb';
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { type Coupon, discountPercent } from '../../src/domain/coupon.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { cellsForLocations } from '../../src/store/lancedb/geohash.ts';
import { couponSchema, couponTable } from '../../src/store/lancedb/rows.ts';
import { BEHAVIOR_DIMS, type IndexedCoupon } from '../../src/store/vector-store.ts';
import { lexicalText } from '../../src/text/coupon-text.ts';
import { makeCoupon, randomUnitVectors } from '../support/coupons.ts';

/** The row object of a coupon, as the store wrote it before (one object per row, converted by LanceDB). */
function referenceRow({ coupon: c, vector, behavior }: IndexedCoupon) {
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

/** A cell as plain JavaScript: strings, numbers and booleans as they are, lists and vectors as arrays. */
function plain(value: unknown): unknown {
  if (value && typeof value === 'object' && 'toArray' in value) return Array.from((value as { toArray(): ArrayLike<unknown> }).toArray());
  return value;
}

function columns(table: Table): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)!;
    out[field.name] = Array.from({ length: table.numRows }, (_, i) => plain(column.get(i)));
  }
  return out;
}

function expectSameRows(docs: IndexedCoupon[], dims: number): void {
  const schema = couponSchema(dims);
  const built = couponTable(docs, schema);
  const reference = makeArrowTable(docs.map(referenceRow), { schema });
  expect(built.numRows).toBe(docs.length);
  expect(built.schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`)).toEqual(
    reference.schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`),
  );
  const got = columns(built);
  const want = columns(reference);
  for (const name of Object.keys(want)) expect(got[name], name).toEqual(want[name]);
}

describe('couponTable', () => {
  it('builds the same rows as LanceDB converts from row objects, on the sample catalogue', () => {
    const coupons = generateCatalogue({ size: 500, seed: 3 });
    const vectors = randomUnitVectors(coupons.length, 100, 5);
    const behaviors = randomUnitVectors(coupons.length, BEHAVIOR_DIMS, 7);
    expectSameRows(
      coupons.map((coupon, i) => ({ coupon, vector: vectors[i]!, behavior: i % 3 === 0 ? behaviors[i] : undefined })),
      100,
    );
  });

  it('and on coupons at the edges of each column', () => {
    const edges: Coupon[] = [
      makeCoupon('jp-1', { title: '【50%OFF】渋谷のラーメン 🍜 一杯無料', description: 'Über café — naïve 𝄞', tags: [], categories: ['グルメ', 'food'] }),
      makeCoupon('no-locations', { locations: [], online: true, tags: ['a', 'ç'], region: 'Kantō' }),
      makeCoupon('many-locations', {
        locations: [
          { lat: 35.6895, lon: 139.6917 },
          { lat: -33.8688, lon: 151.2093 },
          { lat: 35.6896, lon: 139.6918 },
        ],
        final_price: 0,
        discount: { kind: 'amount', value: 5 },
        currency: 'EUR',
        original_price: 40,
      }),
      makeCoupon('empty-description', { description: '', online: false, version: 7 }),
    ];
    const vectors = randomUnitVectors(edges.length, 8, 9);
    const behavior = randomUnitVectors(1, BEHAVIOR_DIMS, 11)[0]!;
    expectSameRows(
      edges.map((coupon, i) => ({ coupon, vector: vectors[i]!, behavior: i === 1 ? behavior : undefined })),
      8,
    );
    // One row alone, and none.
    expectSameRows([{ coupon: edges[0]!, vector: vectors[0]! }], 8);
    expect(couponTable([], couponSchema(8)).numRows).toBe(0);
  });

  it('refuses a vector of the wrong size', () => {
    expect(() => couponTable([{ coupon: makeCoupon('x'), vector: new Float32Array(7) }], couponSchema(8))).toThrow(/7 dimensions in a column of 8/);
  });
});
