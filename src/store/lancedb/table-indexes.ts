import * as lancedb from '@lancedb/lancedb';
import { guard } from './guard.ts';

const SCALAR_INDEXES: Array<[string, () => lancedb.Index]> = [
  ['id', () => lancedb.Index.btree()],
  ['status', () => lancedb.Index.bitmap()],
  ['valid_until_ms', () => lancedb.Index.btree()],
  ['valid_from_ms', () => lancedb.Index.btree()],
  ['merchant_id', () => lancedb.Index.btree()],
  ['categories', () => lancedb.Index.labelList()],
  // A radius filter is prefiltered by the geohash cells covering the circle.
  ['geo_cells', () => lancedb.Index.labelList()],
];

const alreadyThere = (error: unknown) => /commit conflict|preempted by concurrent|already exists/i.test((error as Error).message);

/**
 * Scalar indexes: the merge-insert and version check on `id` stop scanning the table, and the
 * filters every search carries (status, validity, category, merchant, geo cells) are answered from them.
 * `optimize()` folds new rows into every index, so each is created once.
 */
export async function createScalarIndexes(table: lancedb.Table, existing: readonly lancedb.IndexConfig[], only?: readonly string[]): Promise<void> {
  for (const [column, config] of SCALAR_INDEXES) {
    if (existing.some((i) => i.columns.includes(column)) || (only && !only.includes(column))) continue;
    await guard(() => table.createIndex(column, { config: config(), replace: true })).catch((error: unknown) => {
      if (!alreadyThere(error)) throw error;
    });
  }
}

/** The BTREE index on `id` alone (the user table's: its merge-inserts and reads go by id). */
export async function createIdIndex(table: lancedb.Table): Promise<void> {
  await createScalarIndexes(table, await table.listIndices(), ['id']);
}

/**
 * The kNN index. A lighter graph than LanceDB's default (m 16 and efConstruction 100 instead of
 * 20 and 300) is cheaper to build, which matters because the build runs while a catalogue is still
 * streaming in; the store contract test holds its recall@10 at ≥ 0.9 against a brute-force oracle.
 */
export async function createAnnIndex(table: lancedb.Table): Promise<void> {
  await guard(() => table.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: 'cosine', m: 16, efConstruction: 100 }), replace: true }));
}

/** The BM25 index over the lexical text, unless another process committed it first. */
export async function createFullTextIndex(table: lancedb.Table): Promise<void> {
  const exists = async () => (await table.listIndices()).some((i) => i.columns.includes('text'));
  if (await exists()) return;
  try {
    await table.createIndex('text', { config: lancedb.Index.fts({ withPosition: false }), replace: true });
  } catch (error) {
    // Another process (a worker) committed the same index first: that is the outcome we wanted.
    if (alreadyThere(error) && (await exists())) return;
    await guard(() => Promise.reject(error));
  }
}
