import type { Coupon } from '../../domain/coupon.ts';
import { LruCache } from '../../util/lru.ts';

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
