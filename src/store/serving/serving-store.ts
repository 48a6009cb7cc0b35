import { chunks } from '../../util/chunks.ts';
import { nextTurn } from '../../util/next-turn.ts';
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
  private reconciling: Promise<void> | undefined;
  /** Writes of this process's under way (`own`): while one is, a moved token may be its own. */
  private ownWritesInFlight = 0;
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
      for (const [i, id] of result.written.entries()) {
        // Searches get a turn between slices of a large commit (a put costs ~30 µs).
        if (i > 0 && i % PUTS_BETWEEN_YIELDS === 0) await nextTurn();
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
    this.ownWritesInFlight++;
    try {
      const before = await this.durable.changeToken();
      // In step when it started: the writes that end meanwhile are this process's own too (a
      // compaction runs beside the commits of a load), and each applied itself to the index.
      const inStep = before !== undefined && before === this.token;
      const result = await write();
      this.ownWritesSinceReconcile = true;
      if (inStep) this.token = await this.durable.changeToken();
      return result;
    } finally {
      this.ownWritesInFlight--;
    }
  }

  /**
   * The index, brought up to date with other processes' writes when its bound says so. The search
   * that starts that sync waits for it at most `MAX_SYNC_WAIT_MS`: after another process has
   * written a whole catalogue, reading it in takes seconds, and the searches meanwhile are answered
   * from the rows already in memory (each row is replaced whole) instead of waiting, or timing
   * out, behind it.
   */
  private async fresh(): Promise<MemoryIndex> {
    // Only the search that starts a sync waits for it. One that arrives while a sync runs cannot
    // tell whether that sync began before or after the write it may be looking for, so waiting
    // promises it nothing; while another process loads a catalogue, syncs ran back to back (a
    // full comparison reads every id and version the store holds) and every search waited.
    if (this.syncing === undefined && Date.now() - this.checkedAt >= this.options.readConsistencyMs) {
      const syncing = (this.syncing = this.sync().finally(() => {
        this.syncing = undefined;
        this.checkedAt = Date.now();
      }));
      // While this process's own writes are in flight a sync does nothing a search would wait for
      // (see `sync`), and the store's version check itself queues behind those writes.
      if (this.ownWritesInFlight > 0) return this.index!;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, MAX_SYNC_WAIT_MS)));
      try {
        await Promise.race([syncing, waited]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.index!;
  }

  private async sync(): Promise<void> {
    const token = await this.durable.changeToken();
    // Another table (a reindex elsewhere) may hold vectors of another size: load it afresh.
    if (token !== undefined && this.token !== undefined && tableOf(token) !== tableOf(this.token)) {
      const { space } = await this.durable.stats();
      await this.reload(space?.dims ?? this.index!.dims);
      return;
    }
    // The token moved by a write of this process's still in flight, or by another process's: it
    // cannot tell which while one is in flight (in a catalogue load, nearly always), and the full
    // comparison reads every id and version the store holds. Then, as when the token tells nothing, the net
    // under a write from elsewhere runs in the background, every `reconcileMs`; no search waits
    // (and one that fails, the store being away, runs again at the next check once due).
    if ((token !== undefined && token === this.token) || this.ownWritesInFlight > 0) {
      if (this.ownWritesSinceReconcile && Date.now() - this.reconciledAt >= this.options.reconcileMs) void this.reconcile(token).catch(() => undefined);
      return;
    }
    await this.reconcile(token);
  }

  /**
   * Brings the index to the store's ids and versions: new and changed rows read, missing ones
   * dropped. One at a time: a call while one runs gets that one.
   */
  private reconcile(token: string | undefined): Promise<void> {
    this.reconciling ??= this.compareAndCatchUp(token).finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async compareAndCatchUp(token: string | undefined): Promise<void> {
    const index = this.index!;
    const tokenBefore = this.token;
    const touched = new Set<string>();
    this.touched = touched;
    try {
      // A turn of the event loop every slice of ids: at 100,000 coupons the comparison held the
      // API's thread for ~0.2 s, and it runs every few seconds while this process writes.
      const stored = new Map<string, number>();
      for await (const batch of this.durable.versions()) {
        for (const [i, r] of batch.entries()) {
          if (i > 0 && i % COMPARE_SLICE === 0) await nextTurn();
          stored.set(r.id, r.version);
        }
      }
      const gone: string[] = [];
      let seen = 0;
      for (const [id] of index.versions()) {
        if (++seen % COMPARE_SLICE === 0) await nextTurn();
        if (!stored.has(id) && !touched.has(id)) gone.push(id);
      }
      for (const id of gone) index.remove(id);
      const changed: string[] = [];
      seen = 0;
      for (const [id, version] of stored) {
        if (++seen % COMPARE_SLICE === 0) await nextTurn();
        if (index.versionOf(id) !== version) changed.push(id);
      }
      for (const ids of chunks(changed, PUTS_BETWEEN_YIELDS)) {
        for (const [id, row] of await this.durable.get(ids, { withVectors: true })) {
          if (row.vector && !touched.has(id)) index.put({ coupon: row.coupon, vector: row.vector, behavior: row.behavior });
        }
        await nextTurn();
      }
    } finally {
      this.touched = undefined;
    }
    // This process's own writes meanwhile may have moved it on from `token`, in step: keep theirs.
    if (this.token === tokenBefore) this.token = token;
    this.reconciledAt = Date.now();
    this.ownWritesSinceReconcile = false;
  }

  private async reload(dims: number): Promise<void> {
    await this.reconciling; // one running in the background keeps its own list of rows written meanwhile
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

/** How long the read that starts a sync waits for it before it answers from memory as it stands. */
const MAX_SYNC_WAIT_MS = 500;
/** Ids compared with the durable store's between two turns of the event loop. */
const COMPARE_SLICE = 10_000;
/** Index puts of a commit between two turns of the event loop (~30 µs each: a few ms a slice). */
const PUTS_BETWEEN_YIELDS = 250;

/** The table part of a LanceDB token (`coupons_3@42`); other stores' tokens compare whole. */
function tableOf(token: string): string {
  return token.split('@')[0]!;
}
