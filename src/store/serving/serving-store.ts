import { chunks } from '../../util/chunks.ts';
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
import { newestById } from '../versioned-write.ts';
import { MemoryIndex, type MemoryIndexOptions } from './memory-index.ts';

export interface ServingStoreOptions extends MemoryIndexOptions {
  /** How stale another process's writes may look to this one, in ms (the durable store's own bound). */
  readConsistencyMs: number;
  /**
   * After this process's own writes, the longest the index goes without a full comparison with the
   * durable store: the net under a write from another process that landed during one of ours.
   */
  reconcileMs: number;
}

/**
 * The serving index: every coupon of a durable store (LanceDB, or Qdrant) held in memory and
 * searched there, as the search engines users compare this with do. The durable store stays the
 * source of truth: writes go to it first and reach memory once it has accepted them; a process
 * loads the index from it at start-up and follows other processes' writes by its change token
 * (checked at most every `readConsistencyMs`, as the store's own readers are), reconciling ids
 * and versions with it when the token moved for a reason other than this process's own writes.
 * User vectors, scans and rebuilds pass through.
 */
export class ServingStore implements VectorStore {
  readonly kind: string;
  private index: MemoryIndex | undefined;
  /** The durable store's change token that the index reflects. */
  private token: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private reconciledAt = 0;
  private ownWritesSinceReconcile = false;
  private syncing: Promise<void> | undefined;
  /** Ids this process wrote while a reconciliation runs: its view of them may be older, so it leaves them be. */
  private touched: Set<string> | undefined;

  constructor(
    private readonly durable: VectorStore,
    private readonly options: ServingStoreOptions,
  ) {
    this.kind = durable.kind;
  }

  async open(space: VectorSpace): Promise<VectorSpace> {
    const stored = await this.durable.open(space);
    await this.reload(stored.dims);
    return stored;
  }

  async upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult> {
    return this.own(async () => {
      const result = await this.durable.upsert(docs);
      const { newest } = newestById(docs);
      for (const id of result.written) {
        this.touched?.add(id);
        this.index!.put(newest.get(id)!);
      }
      return result;
    });
  }

  async delete(ids: readonly string[]): Promise<void> {
    await this.own(async () => {
      await this.durable.delete(ids);
      for (const id of ids) {
        this.touched?.add(id);
        this.index!.remove(id);
      }
    });
  }

  async get(ids: readonly string[], options: { withVectors?: boolean } = {}): Promise<Map<string, StoredCoupon>> {
    const index = await this.fresh();
    const out = new Map<string, StoredCoupon>();
    for (const id of ids) {
      const found = index.get(id, options.withVectors ?? false);
      if (found) out.set(id, found);
    }
    return out;
  }

  async knn(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    return (await this.fresh()).knn(vector, options.k, options.filter, options.withVectors ?? false);
  }

  async knnBehavior(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    return (await this.fresh()).knnBehavior(vector, options.k, options.filter, options.withVectors ?? false);
  }

  async lexical(query: string, options: SearchOptions): Promise<Hit[]> {
    return (await this.fresh()).search(query, options.k, options.filter, options.withVectors ?? false);
  }

  upsertUsers(vectors: ReadonlyMap<string, Float32Array>): Promise<void> {
    return this.durable.upsertUsers(vectors);
  }

  getUsers(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    return this.durable.getUsers(ids);
  }

  scan(batchSize?: number): AsyncIterable<IndexedCoupon[]> {
    return this.durable.scan(batchSize);
  }

  versions(): AsyncIterable<StoredVersion[]> {
    return this.durable.versions();
  }

  changeToken(): Promise<string | undefined> {
    return this.durable.changeToken();
  }

  async beginRebuild(space: VectorSpace): Promise<StoreRebuild> {
    const rebuild = await this.durable.beginRebuild(space);
    return {
      upsert: (docs) => rebuild.upsert(docs),
      commit: async () => {
        await rebuild.commit();
        await this.reload(space.dims);
      },
      abort: () => rebuild.abort(),
    };
  }

  async optimize(options?: OptimizeOptions): Promise<void> {
    await this.own(() => this.durable.optimize(options));
  }

  async stats(): Promise<StoreStats> {
    return this.durable.stats();
  }

  async close(): Promise<void> {
    await this.index?.settled();
    await this.durable.close();
  }

  /** Resolves when the index's background work (IVF retraining) has finished: for benchmarks and tests. */
  async settled(): Promise<void> {
    await this.index?.settled();
  }

  /**
   * Runs a write of this process's. When the index was in step with the store before it, it is in
   * step after it too (it applied the write itself), so the store's new token needs no
   * reconciliation; a write from elsewhere that landed in between is caught within `reconcileMs`.
   */
  private async own<T>(write: () => Promise<T>): Promise<T> {
    const before = await this.durable.changeToken();
    const result = await write();
    this.ownWritesSinceReconcile = true;
    if (before !== undefined && before === this.token) this.token = await this.durable.changeToken();
    return result;
  }

  /**
   * The index, brought up to date with other processes' writes when its bound says so. A search
   * waits for that sync at most `MAX_SYNC_WAIT_MS`: after another process has written a whole
   * catalogue, reading it in takes seconds, and the searches meanwhile are answered from the rows
   * already in memory (each row is replaced whole) instead of waiting, or timing out, behind it.
   */
  private async fresh(): Promise<MemoryIndex> {
    if (Date.now() - this.checkedAt >= this.options.readConsistencyMs) {
      this.syncing ??= this.sync().finally(() => {
        this.syncing = undefined;
        this.checkedAt = Date.now();
      });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_SYNC_WAIT_MS)));
      try {
        await Promise.race([this.syncing, waited]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.index!;
  }

  private async sync(): Promise<void> {
    const token = await this.durable.changeToken();
    const due = this.ownWritesSinceReconcile && Date.now() - this.reconciledAt >= this.options.reconcileMs;
    if (token !== undefined && token === this.token && !due) return;
    // Another table (a reindex elsewhere) may hold vectors of another size: load it afresh.
    if (token !== undefined && this.token !== undefined && tableOf(token) !== tableOf(this.token)) {
      const { space } = await this.durable.stats();
      await this.reload(space?.dims ?? this.index!.dims);
      return;
    }
    await this.reconcile(token);
  }

  /** Brings the index to the store's ids and versions: new and changed rows read, missing ones dropped. */
  private async reconcile(token: string | undefined): Promise<void> {
    const index = this.index!;
    const touched = new Set<string>();
    this.touched = touched;
    try {
      const stored = new Map<string, number>();
      for await (const batch of this.durable.versions()) for (const r of batch) stored.set(r.id, r.version);
      const gone = [...index.versions()].filter(([id]) => !stored.has(id) && !touched.has(id)).map(([id]) => id);
      for (const id of gone) index.remove(id);
      const changed = [...stored].filter(([id, version]) => index.versionOf(id) !== version).map(([id]) => id);
      for (const ids of chunks(changed, 1000)) {
        for (const [id, row] of await this.durable.get(ids, { withVectors: true })) {
          if (row.vector && !touched.has(id)) index.put({ coupon: row.coupon, vector: row.vector, behavior: row.behavior });
        }
      }
    } finally {
      this.touched = undefined;
    }
    this.token = token;
    this.reconciledAt = Date.now();
    this.ownWritesSinceReconcile = false;
  }

  private async reload(dims: number): Promise<void> {
    const token = await this.durable.changeToken();
    const index = new MemoryIndex(dims, this.options);
    const touched = new Set<string>();
    this.touched = touched;
    try {
      for await (const batch of this.durable.scan(5000)) for (const doc of batch) index.put(doc, false);
      index.retrain();
      // Searches are answered from the first one through the partition (at 100,000 rows a few seconds).
      await index.settled();
      // Rows this process wrote during the scan may have been read before the write: read them again.
      const again = await this.durable.get([...touched], { withVectors: true });
      for (const id of touched) {
        const row = again.get(id);
        if (row?.vector) index.put({ coupon: row.coupon, vector: row.vector, behavior: row.behavior });
        else index.remove(id);
      }
    } finally {
      this.touched = undefined;
    }
    await this.index?.settled();
    this.index = index;
    this.token = token;
    this.checkedAt = Date.now();
    this.reconciledAt = Date.now();
    this.ownWritesSinceReconcile = false;
  }
}

/** How long a read waits for a sync with other processes' writes before it answers from memory as it stands. */
const MAX_SYNC_WAIT_MS = 500;

/** The table part of a LanceDB token (`coupons_3@42`); other stores' tokens compare whole. */
function tableOf(token: string): string {
  return token.split('@')[0]!;
}
