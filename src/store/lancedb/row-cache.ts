import type * as lancedb from '@lancedb/lancedb';
import type { Coupon } from '../../domain/coupon.ts';
import { LruCache } from '../../util/lru.ts';
import { idPredicates } from './filter-sql.ts';
import { guard } from './guard.ts';
import { fromDoc, toFloat32 } from './rows.ts';

/** What a search returns per row before decoding: enough to look the row up in the cache. */
export type RowRef = { id: string; version: number };

/** A decoded coupon row: the parsed document and its vectors, at one version. */
export interface CachedRow {
  version: number;
  coupon: Coupon;
  vector: Float32Array;
  behavior: Float32Array | undefined;
}

/**
 * Decoded rows of one table, kept by id and version. Searches ask the store for ids, versions and
 * scores only, and take the coupon and its vectors from here: a row is decoded (JSON document,
 * 512 floats) once per version instead of once per search that retrieves it. An entry whose version
 * differs from the one the search returned is stale and is decoded again; the cache belongs to one
 * table and is dropped when the live table changes (a reindex writes new vectors at the same
 * versions).
 */
export class RowCache {
  private readonly rows: LruCache<string, CachedRow>;

  constructor(capacity: number) {
    this.rows = new LruCache(capacity);
  }

  /** The row at exactly this version, or undefined when it must be read. */
  get(id: string, version: number): CachedRow | undefined {
    const row = this.rows.get(id);
    return row && row.version === version ? row : undefined;
  }

  set(id: string, row: CachedRow): void {
    this.rows.set(id, row);
  }

  get size(): number {
    return this.rows.size;
  }
}

/**
 * The decoded rows for these ids at these versions: from the cache, and the rest read in one
 * query by id (the BTREE index answers it) and cached. A row rewritten between the search and
 * this read comes back at its newer version, which is what a reader a moment later would see.
 */
export async function readRows(table: lancedb.Table, refs: readonly RowRef[], cache: RowCache): Promise<Map<string, CachedRow>> {
  const out = new Map<string, CachedRow>();
  const missing: string[] = [];
  for (const r of refs) {
    const row = cache.get(r.id, r.version);
    if (row) out.set(r.id, row);
    else missing.push(r.id);
  }
  for (const where of idPredicates(missing)) {
    const read = await guard(() => table.query().where(where).select(['id', 'version', 'doc', 'vector', 'cf', 'has_cf']).toArray());
    for (const r of read) {
      const row: CachedRow = { version: r.version, coupon: fromDoc(r.doc), vector: toFloat32(r.vector), behavior: r.has_cf ? toFloat32(r.cf) : undefined };
      cache.set(r.id, row);
      out.set(r.id, row);
    }
  }
  return out;
}
