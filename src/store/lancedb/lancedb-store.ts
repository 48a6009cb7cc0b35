import { mkdir } from 'node:fs/promises';
import * as lancedb from '@lancedb/lancedb';
import { dot } from '../../embed/embedder.ts';
import { UnavailableError } from '../../errors.ts';
import type {
  Hit,
  IndexedCoupon,
  OptimizeOptions,
  SearchOptions,
  StoredCoupon,
  StoredVersion,
  StoreRebuild,
  StoreStats,
  UpsertResult,
  VectorSpace,
  VectorStore,
} from '../vector-store.ts';
import { idPredicates } from './filter-sql.ts';
import { filteredSearch } from './filtered-search.ts';
import { guard } from './guard.ts';
import { type Pointer, pointerMtime, readPointer, writePointer } from './pointer-file.ts';
import { type CachedRow, RowCache, type RowRef, readRows } from './row-cache.ts';
import { couponSchema } from './rows.ts';
import { createAnnIndex, createFullTextIndex, createScalarIndexes } from './table-indexes.ts';
import { UserVectorTable } from './user-table.ts';
import { storedVersions, writeVersioned } from './versioned-merge.ts';

export interface LanceDbStoreOptions {
  /** Folder of the database. */
  dir: string;
  /** Rows from which kNN goes through an IVF_HNSW_SQ index instead of exact search (ANN_INDEX_THRESHOLD). */
  annThreshold: number;
  /** How stale another process's writes may look to this one, in ms. */
  readConsistencyMs: number;
  /** Decoded rows (coupon + vectors) kept in memory by id and version (STORE_ROW_CACHE). */
  rowCacheSize: number;
  /**
   * (Re)build the kNN index only once writes go quiet, never during a stream. Set where a serving
   * index answers the searches: this table's kNN index then serves tools and a later switch only,
   * and a build beside a catalogue load takes the cores the load needs (the load's later tenths
   * ran at half the speed of its first while one ran). @defaultValue false
   */
  knnIndexWhenQuiet?: boolean;
}

/**
 * The embedded vector store: LanceDB on local disk. Each coupon is one row (see rows.ts); writes
 * are merge-inserts keyed on id that only replace an older version; kNN and BM25 both run with the
 * filter applied before the search. A full rebuild writes a new table and swaps a pointer file.
 */
export class LanceDbStore implements VectorStore {
  readonly kind = 'lancedb';
  private db: lancedb.Connection | undefined;
  private pointer: Pointer | undefined;
  private table: lancedb.Table | undefined;
  private pointerCheckedAt = 0;
  private pointerMtime = 0;
  private readonly annThreshold: number;
  private readonly readConsistencyMs: number;
  private rows: RowCache;
  /** A kNN index build that `optimize({ streaming: true })` left running, and how it failed. */
  private backgroundAnnBuild: Promise<void> | undefined;
  private backgroundAnnError: unknown;

  constructor(private readonly options: LanceDbStoreOptions) {
    this.annThreshold = options.annThreshold;
    this.readConsistencyMs = options.readConsistencyMs;
    this.rows = new RowCache(options.rowCacheSize);
  }

  async open(space: VectorSpace): Promise<VectorSpace> {
    await mkdir(this.options.dir, { recursive: true });
    this.db = await guard(() => lancedb.connect(this.options.dir, { readConsistencyInterval: this.readConsistencyMs / 1000 }));
    const existing = await readPointer(this.options.dir);
    if (existing) {
      await this.usePointer(existing);
      // A store written by an older version may lack an index that searches now rely on.
      const table = await this.live();
      if ((await table.countRows()) > 0) await createScalarIndexes(table, await table.listIndices());
      return existing.space;
    }
    // Two processes may open an empty data dir at once (API and worker): both name the same first
    // table, `existOk` lets the second reuse it, and both write the same pointer.
    const table = await this.nextTableName();
    await this.db.createEmptyTable(table, couponSchema(space.dims), { existOk: true });
    const pointer = { table, space };
    await writePointer(this.options.dir, pointer);
    await this.usePointer(pointer);
    return space;
  }

  async upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
    return writeVersioned(await this.live(), docs);
  }

  async delete(ids: readonly string[]): Promise<void> {
    const table = await this.live();
    for (const where of idPredicates(ids)) await guard(() => table.delete(where));
  }

  async get(ids: readonly string[], options: { withVectors?: boolean } = {}): Promise<Map<string, StoredCoupon>> {
    const table = await this.live();
    const out = new Map<string, StoredCoupon>();
    // Versions first (cheap, from the index), then only the rows the cache lacks at that version.
    const rows = await readRows(table, await storedVersions(table, ids), this.rows);
    for (const [id, row] of rows) {
      out.set(id, { coupon: row.coupon, vector: options.withVectors ? row.vector : undefined, behavior: options.withVectors ? row.behavior : undefined });
    }
    return out;
  }

  async knn(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    const table = await this.live();
    return filteredSearch(options, async (where, limit) => {
      let q = table.query().nearestTo(vector).distanceType('cosine').limit(limit);
      // ef bounds the HNSW candidate list: at least the number asked for, for recall ~0.95+.
      q = q.ef(Math.max(100, Math.ceil(limit * 1.5)));
      if (where) q = q.where(where);
      const refs = (await q.select(['id', 'version', '_distance']).toArray()) as Array<RowRef & { _distance: number }>;
      return this.hits(table, refs, (r) => 1 - r._distance, options);
    });
  }

  async knnBehavior(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    const table = await this.live();
    return filteredSearch(options, async (where, limit) => {
      const q = table
        .query()
        .nearestTo(vector)
        .column('cf')
        .distanceType('dot')
        .limit(limit)
        .where(where ? `has_cf AND ${where}` : 'has_cf');
      const refs = (await q.select(['id', 'version', '_distance']).toArray()) as RowRef[];
      return this.hits(table, refs, (_, row) => dot(vector, row.behavior!), options);
    });
  }

  upsertUsers(vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    return this.users.upsert(vectors);
  }

  getUsers(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    return this.users.get(ids);
  }

  async lexical(query: string, options: SearchOptions): Promise<Hit[]> {
    const text = query.trim();
    if (!text) return [];
    const table = await this.live();
    await this.ensureFullTextIndex(table);
    return filteredSearch(options, async (where, limit) => {
      let q = table.query().fullTextSearch(text).limit(limit);
      if (where) q = q.where(where);
      const refs = (await q.select(['id', 'version', '_score']).toArray()) as Array<RowRef & { _score: number }>;
      return this.hits(table, refs, (r) => r._score, options);
    });
  }

  /** Hits in the order of `refs`, their coupons and vectors from the row cache. */
  private async hits<R extends RowRef>(table: lancedb.Table, refs: R[], score: (r: R, row: CachedRow) => number, options: SearchOptions): Promise<Hit[]> {
    const rows = await readRows(table, refs, this.rows);
    const out: Hit[] = [];
    for (const r of refs) {
      const row = rows.get(r.id);
      // Deleted between the search and the read: gone for the next reader too.
      if (row)
        out.push({
          id: r.id,
          score: score(r, row),
          coupon: row.coupon,
          vector: options.withVectors ? row.vector : undefined,
          behavior: options.withVectors ? row.behavior : undefined,
        });
    }
    return out;
  }

  /**
   * Every row once: the ids and versions as of the start (`versions()`), then the rows by id, a
   * batch at a time. Offsets into a table that a compaction (here or in another process) rewrites
   * meanwhile shift: a bulk load's final check got 10,000 rows with 9,729 distinct ids. Ids do not
   * shift. A row deleted meanwhile is left out, one rewritten comes back at its newer version, and
   * one added after the start is not included (a reindex's writer sends those to the rebuild itself).
   */
  async *scan(batchSize = 1000): AsyncIterable<IndexedCoupon[]> {
    const table = await this.live();
    // Each row is read once: nothing worth keeping in a cache.
    const uncached = new RowCache(0);
    for await (const refs of this.versions()) {
      for (let start = 0; start < refs.length; start += batchSize) {
        const rows = await readRows(table, refs.slice(start, start + batchSize), uncached);
        if (rows.size > 0) yield [...rows.values()].map(({ coupon, vector, behavior }) => ({ coupon, vector, behavior }));
      }
    }
  }

  async *versions(): AsyncIterable<StoredVersion[]> {
    const table = await this.live();
    const batch = await guard(() => table.query().select(['id', 'version']).toArrow());
    // An empty result has no columns at all.
    const ids = (batch.getChild('id')?.toArray() ?? []) as string[];
    const versions = batch.getChild('version')?.toArray() as Float64Array | undefined;
    yield Array.from(ids, (id, i) => ({ id, version: versions![i]! }));
  }

  async changeToken(): Promise<string> {
    const table = await this.live();
    return `${this.pointer!.table}@${await guard(() => table.version())}`;
  }

  async beginRebuild(space: VectorSpace): Promise<StoreRebuild> {
    const db = this.connection();
    const name = await this.nextTableName();
    const table = await db.createEmptyTable(name, couponSchema(space.dims));
    return {
      upsert: (docs) => writeVersioned(table, docs),
      commit: async () => {
        const old = this.pointer?.table;
        const pointer: Pointer = { table: name, space };
        await this.ensureFilterIndexes(table);
        await this.buildAnnIfDue(table, pointer);
        await writePointer(this.options.dir, pointer);
        await this.usePointer(pointer);
        if (old && old !== name) await db.dropTable(old).catch(() => undefined);
      },
      abort: async () => {
        await db.dropTable(name).catch(() => undefined);
      },
    };
  }

  async optimize({ streaming = false }: OptimizeOptions = {}): Promise<void> {
    const table = await this.live();
    const pointer = this.pointer!;
    // Compaction rewrites the fragments that a kNN index build in flight covers: their commits conflict.
    await this.backgroundAnnBuildDone();
    await this.ensureFilterIndexes(table);
    // Compacts the small fragments that streaming writes leave, folds new rows into the indexes, and
    // removes versions older than a minute (readers in other processes move on within a second).
    await guard(() => table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) }));
    if (streaming && this.options.knnIndexWhenQuiet) return;
    // A (re)build of the kNN index commits beside merge-inserts without conflict (an index may
    // leave new rows unindexed), so a streaming writer need not wait the seconds it takes.
    const build = (this.backgroundAnnBuild = this.buildAnnIfDue(table, pointer)
      .catch((error: unknown) => {
        this.backgroundAnnError = error;
      })
      .finally(() => {
        if (this.backgroundAnnBuild === build) this.backgroundAnnBuild = undefined;
      }));
    if (!streaming) await this.backgroundAnnBuildDone();
  }

  /** Waits for a kNN index build running in the background; its failure is thrown here (and the writer retries). */
  private async backgroundAnnBuildDone(): Promise<void> {
    await this.backgroundAnnBuild;
    const error = this.backgroundAnnError;
    this.backgroundAnnError = undefined;
    if (error) throw error;
  }

  async stats(): Promise<StoreStats> {
    const table = await this.live();
    const [count, indices, stats] = await Promise.all([table.countRows(), table.listIndices(), table.stats()]);
    return { count, annIndexed: indices.some((i) => i.columns.includes('vector')), space: this.pointer?.space, fragments: stats.fragmentStats.numFragments };
  }

  async close(): Promise<void> {
    try {
      await this.backgroundAnnBuild;
      await this.users.flush();
    } finally {
      this.users.close();
      this.table?.close();
      this.db?.close();
      this.table = undefined;
      this.db = undefined;
    }
  }

  /** The indexes searches filter and merge-inserts look up by: created once, then folded into by `optimize()`. */
  private async ensureFilterIndexes(table: lancedb.Table): Promise<void> {
    await this.ensureFullTextIndex(table);
    if ((await table.countRows()) === 0) return;
    await createScalarIndexes(table, await table.listIndices());
  }

  /** Builds the kNN index past the size threshold, and retrains it each time the table has doubled. */
  private async buildAnnIfDue(table: lancedb.Table, pointer: Pointer): Promise<void> {
    const count = await table.countRows();
    if (count < this.annThreshold) return;
    const hasAnn = (await table.listIndices()).some((i) => i.columns.includes('vector'));
    if (hasAnn && pointer.annBuiltAt !== undefined && count < 2 * pointer.annBuiltAt) return;
    // Partitions trained on a small table go stale as it grows.
    await createAnnIndex(table);
    const updated = { ...pointer, annBuiltAt: count };
    if (pointer.table === this.pointer?.table) {
      await writePointer(this.options.dir, updated);
      this.pointer = updated;
    } else {
      Object.assign(pointer, updated);
    }
  }

  private readonly fullTextIndexes = new WeakMap<lancedb.Table, Promise<void>>();

  /**
   * Creates the BM25 index if the table has none: once per table, however many searches and
   * index-maintenance runs ask at the same moment (concurrent CreateIndex commits conflict).
   */
  private ensureFullTextIndex(table: lancedb.Table): Promise<void> {
    let ready = this.fullTextIndexes.get(table);
    if (!ready) {
      ready = createFullTextIndex(table).catch((error: unknown) => {
        this.fullTextIndexes.delete(table);
        throw error;
      });
      this.fullTextIndexes.set(table, ready);
    }
    return ready;
  }

  /** The users' behaviour vectors (group-committed and compacted apart from the coupons). */
  readonly users = new UserVectorTable(() => this.connection());

  private connection(): lancedb.Connection {
    if (!this.db) throw new UnavailableError('store', 'LanceDbStore.open() has not been called');
    return this.db;
  }

  /** The live table, following a pointer switch made by another process (e.g. a reindex). */
  private async live(): Promise<lancedb.Table> {
    if (!this.table) throw new UnavailableError('store', 'LanceDbStore.open() has not been called');
    const now = Date.now();
    if (now - this.pointerCheckedAt >= this.readConsistencyMs) {
      this.pointerCheckedAt = now;
      const mtime = await pointerMtime(this.options.dir);
      if (mtime !== this.pointerMtime) {
        const pointer = await readPointer(this.options.dir);
        if (pointer && pointer.table !== this.pointer?.table) await this.usePointer(pointer);
        else if (pointer) this.pointer = pointer;
      }
    }
    return this.table;
  }

  private async usePointer(pointer: Pointer): Promise<void> {
    const table = await guard(() => this.connection().openTable(pointer.table));
    this.table?.close();
    if (this.pointer?.table !== pointer.table) this.rows = new RowCache(this.options.rowCacheSize);
    this.table = table;
    this.pointer = pointer;
    this.pointerMtime = await pointerMtime(this.options.dir);
    this.pointerCheckedAt = Date.now();
  }

  private async nextTableName(): Promise<string> {
    const names = await this.connection().tableNames();
    const max = Math.max(0, ...names.map((n) => Number(/^coupons_(\d+)$/.exec(n)?.[1] ?? 0)));
    return `coupons_${max + 1}`;
  }
}
