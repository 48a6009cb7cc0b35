import type * as lancedb from '@lancedb/lancedb';
import { chunks } from '../../util/chunks.ts';
import type { IndexedCoupon, UpsertResult } from '../vector-store.ts';
import { newestById, planVersionedWrite } from '../versioned-write.ts';
import { sqlString } from './filter-sql.ts';
import { guard } from './guard.ts';
import { toRow } from './rows.ts';

/** Ids per `id IN (…)` list. */
export const LIST_CHUNK = 500;

/**
 * Writes the newest version of each coupon. Versions are compared twice: once here to report which
 * ids were stale, and again inside the merge (`target.version < source.version`) so that a
 * concurrent writer with a newer version still wins.
 */
export async function writeVersioned(table: lancedb.Table, docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
  const { newest, stale } = newestById(docs);
  const stored = new Map<string, number>();
  for (const chunk of chunks([...newest.keys()], LIST_CHUNK)) {
    const rows = await guard(() =>
      table
        .query()
        .where(`id IN (${chunk.map(sqlString).join(', ')})`)
        .select(['id', 'version'])
        .toArray(),
    );
    for (const r of rows) stored.set(r.id, r.version);
  }
  const plan = planVersionedWrite(newest, stale, stored);
  if (plan.fresh.length > 0) {
    await guard(() =>
      table.mergeInsert('id').whenMatchedUpdateAll({ where: 'target.version < source.version' }).whenNotMatchedInsertAll().execute(plan.fresh.map(toRow)),
    );
  }
  return { written: plan.fresh.map((d) => d.coupon.id), stale: plan.stale };
}
