import type * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';
import { arrow } from './arrow.ts';
import type { IndexedCoupon, UpsertResult } from '../vector-store.ts';
import { newestById, planVersionedWrite } from '../versioned-write.ts';
import { idPredicates } from './filter-sql.ts';
import { guard } from './guard.ts';
import type { RowRef } from './row-cache.ts';
import { couponSchema, couponTable } from './rows.ts';

/** The stored version of each of these ids that the table holds (the BTREE on `id` answers it). */
export async function storedVersions(table: lancedb.Table, ids: Iterable<string>): Promise<RowRef[]> {
  const out: RowRef[] = [];
  for (const where of idPredicates(ids)) {
    const rows = await guard(() => table.query().where(where).select(['id', 'version']).toArray());
    for (const r of rows) out.push({ id: r.id, version: r.version });
  }
  return out;
}

const rowSchemas = new WeakMap<lancedb.Table, Promise<Schema>>();

/**
 * The coupon schema as far as this table has it: a store written by an older version may lack a
 * column added since.
 */
function rowSchema(table: lancedb.Table, dims: number): Promise<Schema> {
  let schema = rowSchemas.get(table);
  if (!schema) {
    schema = guard(() => table.schema()).then((stored) => {
      const names = new Set(stored.fields.map((f) => f.name));
      return new arrow.Schema(couponSchema(dims).fields.filter((f) => names.has(f.name)));
    });
    rowSchemas.set(table, schema);
  }
  return schema;
}

/**
 * Writes the newest version of each coupon. Versions are compared twice: once here to report which
 * ids were stale, and again inside the merge (`target.version < source.version`) so that a
 * concurrent writer with a newer version still wins.
 */
export async function writeVersioned(table: lancedb.Table, docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
  const { newest, stale } = newestById(docs);
  const stored = new Map((await storedVersions(table, newest.keys())).map((r) => [r.id, r.version]));
  const plan = planVersionedWrite(newest, stale, stored);
  if (plan.fresh.length > 0) {
    const rows = couponTable(plan.fresh, await rowSchema(table, plan.fresh[0]!.vector.length));
    await guard(() => table.mergeInsert('id').whenMatchedUpdateAll({ where: 'target.version < source.version' }).whenNotMatchedInsertAll().execute(rows));
  }
  return { written: plan.fresh.map((d) => d.coupon.id), stale: plan.stale };
}
