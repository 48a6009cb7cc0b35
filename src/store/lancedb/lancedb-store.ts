import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { matchesFilter } from '../../domain/filter.ts';
import { UnavailableError } from '../../errors.ts';
import type { Hit, IndexedCoupon, SearchOptions, StoredCoupon, StoreRebuild, StoreStats, UpsertResult, VectorSpace, VectorStore } from '../vector-store.ts';
import { chunks } from '../../util/chunks.ts';
import { compileFilter, sqlString } from './filter-sql.ts';
import { couponSchema, fromDoc, toFloat32, toRow, userSchema } from './rows.ts';
import { dot } from '../../embed/embedder.ts';

export interface LanceDbStoreOptions {
  /** Folder of the database. */
  dir: string;
  /** Rows from which kNN goes through an IVF_HNSW_SQ index instead of exact search. @defaultValue 20000 */
  annThreshold?: number;
  /** How stale another process's writes may look to this one, in ms. @defaultValue 1000 */
  readConsistencyMs?: number;
}

/** Which table is live, and the vector space its vectors were made in. Replaced atomically (rename). */
interface Pointer {
  table: string;
  space: VectorSpace;
  /** Row count when the ANN index was last (re)built; it is rebuilt when the table doubles. */
  annBuiltAt?: number;
}

const POINTER_FILE = 'current.json';
const LIST_CHUNK = 500;

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

  constructor(private readonly options: LanceDbStoreOptions) {
    this.annThreshold = options.annThreshold ?? 20_000;
    this.readConsistencyMs = options.readConsistencyMs ?? 1000;
  }

  async open(space: VectorSpace): Promise<VectorSpace> {
    await mkdir(this.options.dir, { recursive: true });
    this.db = await guard(() => lancedb.connect(this.options.dir, { readConsistencyInterval: this.readConsistencyMs / 1000 }));
    const existing = await this.readPointer();
    if (existing) {
      await this.usePointer(existing);
      return existing.space;
    }
    // Two processes may open an empty data dir at once (API and worker): both name the same first
    // table, `existOk` lets the second reuse it, and both write the same pointer.
    const table = await this.nextTableName();
    await this.db.createEmptyTable(table, couponSchema(space.dims), { existOk: true });
    const pointer = { table, space };
    await this.writePointer(pointer);
    await this.usePointer(pointer);
    return space;
  }

  async upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
    return writeVersioned(await this.live(), docs);
  }

  async delete(ids: readonly string[]): Promise<void> {
    const table = await this.live();
    for (const chunk of chunks(ids, LIST_CHUNK)) await guard(() => table.delete(`id IN (${chunk.map(sqlString).join(', ')})`));
  }

  async get(ids: readonly string[], options: { withVectors?: boolean } = {}): Promise<Map<string, StoredCoupon>> {
    const table = await this.live();
    const out = new Map<string, StoredCoupon>();
    for (const chunk of chunks([...new Set(ids)], LIST_CHUNK)) {
      const columns = options.withVectors ? ['id', 'doc', 'vector', 'cf', 'has_cf'] : ['id', 'doc'];
      const rows = await guard(() => table.query().where(`id IN (${chunk.map(sqlString).join(', ')})`).select(columns).toArray());
      for (const r of rows) {
        out.set(r.id, {
          coupon: fromDoc(r.doc),
          vector: options.withVectors ? toFloat32(r.vector) : undefined,
          behavior: options.withVectors && r.has_cf ? toFloat32(r.cf) : undefined,
        });
      }
    }
    return out;
  }

  async knn(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    const table = await this.live();
    return this.filtered(options, async (where, limit) => {
      let q = table.query().nearestTo(vector).distanceType('cosine').limit(limit);
      // ef bounds the HNSW candidate list: at least the number asked for, for recall ~0.95+.
      q = q.ef(Math.max(100, Math.ceil(limit * 1.5)));
      if (where) q = q.where(where);
      q = q.select(options.withVectors ? ['id', 'doc', 'vector', '_distance'] : ['id', 'doc', '_distance']);
      const rows = await q.toArray();
      return rows.map((r) => ({ id: r.id, score: 1 - r._distance, coupon: fromDoc(r.doc), vector: options.withVectors ? toFloat32(r.vector) : undefined }));
    });
  }

  async knnBehavior(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    const table = await this.live();
    return this.filtered(options, async (where, limit) => {
      let q = table.query().nearestTo(vector).column('cf').distanceType('dot').limit(limit).where(where ? `has_cf AND ${where}` : 'has_cf');
      q = q.select(['id', 'doc', 'cf', '_distance', ...(options.withVectors ? ['vector'] : [])]);
      const rows = await q.toArray();
      return rows.map((r) => ({ id: r.id, score: dot(vector, toFloat32(r.cf)), coupon: fromDoc(r.doc), vector: options.withVectors ? toFloat32(r.vector) : undefined }));
    });
  }

  async upsertUsers(vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    if (vectors.size === 0) return;
    const users = await this.usersTable();
    await guard(() => users.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([...vectors].map(([id, vector]) => ({ id, vector }))));
  }

  async getUsers(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (ids.length === 0) return out;
    const users = await this.usersTable();
    for (const chunk of chunks([...new Set(ids)], LIST_CHUNK)) {
      const rows = await guard(() => users.query().where(`id IN (${chunk.map(sqlString).join(', ')})`).toArray());
      for (const r of rows) out.set(r.id, toFloat32(r.vector));
    }
    return out;
  }

  async lexical(query: string, options: SearchOptions): Promise<Hit[]> {
    const text = query.trim();
    if (!text) return [];
    const table = await this.live();
    await this.ensureFullTextIndex(table);
    return this.filtered(options, async (where, limit) => {
      let q = table.query().fullTextSearch(text).limit(limit);
      if (where) q = q.where(where);
      q = q.select(options.withVectors ? ['id', 'doc', 'vector', '_score'] : ['id', 'doc', '_score']);
      const rows = await q.toArray();
      return rows.map((r) => ({ id: r.id, score: r._score, coupon: fromDoc(r.doc), vector: options.withVectors ? toFloat32(r.vector) : undefined }));
    });
  }

  async *scan(batchSize = 1000): AsyncIterable<IndexedCoupon[]> {
    const table = await this.live();
    const total = await table.countRows();
    for (let offset = 0; offset < total; offset += batchSize) {
      const rows = await guard(() => table.query().select(['id', 'doc', 'vector', 'cf', 'has_cf']).offset(offset).limit(batchSize).toArray());
      yield rows.map((r) => ({ coupon: fromDoc(r.doc), vector: toFloat32(r.vector), behavior: r.has_cf ? toFloat32(r.cf) : undefined }));
    }
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
        await this.buildIndexes(table, pointer);
        await this.writePointer(pointer);
        await this.usePointer(pointer);
        if (old && old !== name) await db.dropTable(old).catch(() => undefined);
      },
      abort: async () => {
        await db.dropTable(name).catch(() => undefined);
      },
    };
  }

  async optimize(): Promise<void> {
    const table = await this.live();
    const pointer = this.pointer!;
    await this.buildIndexes(table, pointer);
    // Compacts the small fragments that streaming writes leave and folds new rows into the indexes.
    await guard(() => table.optimize({ cleanupOlderThan: new Date(Date.now() - 10 * 60_000) }));
  }

  async stats(): Promise<StoreStats> {
    const table = await this.live();
    const [count, indices] = await Promise.all([table.countRows(), table.listIndices()]);
    return { count, annIndexed: indices.some((i) => i.columns.includes('vector')), space: this.pointer?.space };
  }

  async close(): Promise<void> {
    this.users?.close();
    this.users = undefined;
    this.table?.close();
    this.db?.close();
    this.table = undefined;
    this.db = undefined;
  }

  /**
   * Runs a filtered search. When the compiled filter is only a prefilter (geo radius), candidates
   * are re-checked exactly and the search widens until k survive or the table is exhausted.
   */
  private async filtered(options: SearchOptions, search: (where: string | undefined, limit: number) => Promise<Hit[]>): Promise<Hit[]> {
    const { sql, exact } = compileFilter(options.filter);
    if (exact) return guard(() => search(sql, options.k));
    let limit = Math.max(options.k * 2, options.k + 50);
    for (;;) {
      const raw = await guard(() => search(sql, limit));
      const kept = raw.filter((h) => matchesFilter(h.coupon, options.filter!));
      if (kept.length >= options.k || raw.length < limit) return kept.slice(0, options.k);
      limit *= 4;
    }
  }

  private async buildIndexes(table: lancedb.Table, pointer: Pointer): Promise<void> {
    await this.ensureFullTextIndex(table);
    const count = await table.countRows();
    if (count < this.annThreshold) return;
    const indices = await table.listIndices();
    const hasAnn = indices.some((i) => i.columns.includes('vector'));
    if (hasAnn && pointer.annBuiltAt !== undefined && count < 2 * pointer.annBuiltAt) return;
    // (Re)train when the table has doubled: partitions trained on a small table go stale.
    await guard(() =>
      table.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: 'cosine' }), replace: true }),
    );
    const updated = { ...pointer, annBuiltAt: count };
    if (pointer.table === this.pointer?.table) {
      await this.writePointer(updated);
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
      ready = this.createFullTextIndex(table).catch((error: unknown) => {
        this.fullTextIndexes.delete(table);
        throw error;
      });
      this.fullTextIndexes.set(table, ready);
    }
    return ready;
  }

  private async createFullTextIndex(table: lancedb.Table): Promise<void> {
    const exists = async () => (await table.listIndices()).some((i) => i.columns.includes('text'));
    if (await exists()) return;
    try {
      await table.createIndex('text', { config: lancedb.Index.fts({ withPosition: false }), replace: true });
    } catch (error) {
      // Another process (a worker) committed the same index first: that is the outcome we wanted.
      if (/commit conflict|preempted by concurrent/i.test((error as Error).message) && (await exists())) return;
      await guard(() => Promise.reject(error));
    }
  }

  private users: lancedb.Table | undefined;

  private async usersTable(): Promise<lancedb.Table> {
    this.users ??= await guard(() => this.connection().createEmptyTable('users', userSchema(), { existOk: true }));
    return this.users;
  }

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
      const mtime = await stat(this.pointerPath()).then((s) => s.mtimeMs, () => 0);
      if (mtime !== this.pointerMtime) {
        const pointer = await this.readPointer();
        if (pointer && pointer.table !== this.pointer?.table) await this.usePointer(pointer);
        else if (pointer) this.pointer = pointer;
      }
    }
    return this.table;
  }

  private async usePointer(pointer: Pointer): Promise<void> {
    const table = await guard(() => this.connection().openTable(pointer.table));
    this.table?.close();
    this.table = table;
    this.pointer = pointer;
    this.pointerMtime = await stat(this.pointerPath()).then((s) => s.mtimeMs, () => 0);
    this.pointerCheckedAt = Date.now();
  }

  private pointerPath(): string {
    return path.join(this.options.dir, POINTER_FILE);
  }

  private async readPointer(): Promise<Pointer | undefined> {
    try {
      return JSON.parse(await readFile(this.pointerPath(), 'utf8')) as Pointer;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async writePointer(pointer: Pointer): Promise<void> {
    const tmp = `${this.pointerPath()}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(pointer, null, 2));
    await rename(tmp, this.pointerPath());
  }

  private async nextTableName(): Promise<string> {
    const names = await this.connection().tableNames();
    const max = Math.max(0, ...names.map((n) => Number(/^coupons_(\d+)$/.exec(n)?.[1] ?? 0)));
    return `coupons_${max + 1}`;
  }
}

/**
 * Writes the newest version of each coupon. Versions are compared twice: once here to report which
 * ids were stale, and again inside the merge (`target.version < source.version`) so that a
 * concurrent writer with a newer version still wins.
 */
async function writeVersioned(table: lancedb.Table, docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
  const newest = new Map<string, IndexedCoupon>();
  const stale: string[] = [];
  for (const d of docs) {
    const prev = newest.get(d.coupon.id);
    if (!prev) newest.set(d.coupon.id, d);
    else if (d.coupon.version > prev.coupon.version) {
      stale.push(prev.coupon.id);
      newest.set(d.coupon.id, d);
    } else stale.push(d.coupon.id);
  }
  const stored = new Map<string, number>();
  for (const chunk of chunks([...newest.keys()], LIST_CHUNK)) {
    const rows = await guard(() => table.query().where(`id IN (${chunk.map(sqlString).join(', ')})`).select(['id', 'version']).toArray());
    for (const r of rows) stored.set(r.id, r.version);
  }
  const fresh = [...newest.values()].filter((d) => {
    const v = stored.get(d.coupon.id);
    if (v !== undefined && v >= d.coupon.version) {
      stale.push(d.coupon.id);
      return false;
    }
    return true;
  });
  if (fresh.length > 0) {
    await guard(() =>
      table.mergeInsert('id').whenMatchedUpdateAll({ where: 'target.version < source.version' }).whenNotMatchedInsertAll().execute(fresh.map(toRow)),
    );
  }
  return { written: fresh.map((d) => d.coupon.id), stale };
}

/** Maps LanceDB's I/O failures to the domain's UnavailableError, once, at the adapter boundary. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    const message = (error as Error).message ?? String(error);
    if (/No such file|not found|IO error|LanceError\(IO\)|Permission denied/i.test(message)) {
      throw new UnavailableError('store', message.slice(0, 300), { cause: error });
    }
    // Concurrent commits (another process indexing or optimizing): the caller may simply retry.
    if (/Retryable commit conflict/i.test(message)) throw new UnavailableError('store', message.slice(0, 300), { cause: error, retryAfterSeconds: 1 });
    throw error;
  }
}
