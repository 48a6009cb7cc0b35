import type { Coupon } from '../../domain/coupon.ts';
import type { Filter } from '../../domain/filter.ts';
import { lexicalText } from '../../text/coupon-text.ts';
import { BEHAVIOR_DIMS, type Hit, type IndexedCoupon, type StoredCoupon } from '../vector-store.ts';
import { Bm25Index } from './bm25-index.ts';
import { dotAt, IvfIndex } from './ivf-index.ts';
import { ScanMemory } from './scan-memory.ts';
import { compilePredicate, emptyColumns, type FilterColumns, grownColumns, writeColumns } from './row-predicate.ts';
import { TopK } from './top-k.ts';

const NO_SCORES = new Float32Array(0);

export interface MemoryIndexOptions {
  /** Rows from which kNN goes through the IVF partition instead of scoring every row. */
  exactRows: number;
  /** Share of the rows an IVF search scores at least (its recall knob). */
  probeShare: number;
}

/**
 * Every stored coupon in memory, by slot: the coupon and what filters read of it, the text
 * vectors in one Float32Array, the behaviour vectors in another, a BM25 index and an IVF
 * partition. Synchronous: a search is a scan over typed arrays on the JavaScript thread, with no
 * I/O, no decoding and no allocation per row.
 */
export class MemoryIndex {
  private readonly slotOf = new Map<string, number>();
  /** The coupon in each slot (undefined: free); `versions` and the filter columns beside it. */
  private readonly coupons: Array<Coupon | undefined> = [];
  private versionAt = new Float64Array(1024);
  private cols: FilterColumns;
  private readonly free: number[] = [];
  private vectors: Float32Array;
  private behaviors: Float32Array;
  private hasBehavior: Uint8Array;
  private readonly lexical = new Bm25Index();
  private readonly ivf: IvfIndex;
  /** Bumped by every write: what `recentVectors` holds from before it is not used. */
  private generation = 0;
  private readonly recentVectors = new ScanMemory<Float32Array, Float32Array>((n) => new Float32Array(n));

  constructor(
    readonly dims: number,
    options: MemoryIndexOptions,
  ) {
    this.vectors = new Float32Array(1024 * dims);
    this.behaviors = new Float32Array(1024 * BEHAVIOR_DIMS);
    this.hasBehavior = new Uint8Array(1024);
    this.cols = emptyColumns(this.coupons, 1024);
    this.ivf = new IvfIndex(
      dims,
      options.probeShare,
      options.exactRows,
      () => this.vectors,
      () => [...this.slotOf.values()],
    );
  }

  private readonly idOf = (slot: number): string => this.coupons[slot]!.id;

  get size(): number {
    return this.slotOf.size;
  }

  /** Whether kNN goes through the IVF partition. */
  get partitioned(): boolean {
    return this.ivf.trained;
  }

  versionOf(id: string): number | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.versionAt[slot];
  }

  *versions(): Iterable<[string, number]> {
    for (const [id, slot] of this.slotOf) yield [id, this.versionAt[slot]!];
  }

  /**
   * Adds or replaces a coupon (the caller has decided it is the newest version). A bulk load
   * passes `retrain: false` and calls `retrain()` at its end: one training instead of one per doubling.
   */
  put({ coupon, vector, behavior }: IndexedCoupon, retrain = true): void {
    if (vector.length !== this.dims) throw new Error(`serving index holds ${this.dims}-d vectors, got ${vector.length}`);
    this.generation++;
    let slot = this.slotOf.get(coupon.id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.coupons.length;
      this.slotOf.set(coupon.id, slot);
      this.reserve(slot + 1);
    }
    this.coupons[slot] = coupon;
    this.versionAt[slot] = coupon.version ?? 0;
    writeColumns(this.cols, slot, coupon);
    this.vectors.set(vector, slot * this.dims);
    this.hasBehavior[slot] = behavior ? 1 : 0;
    if (behavior) this.behaviors.set(behavior, slot * BEHAVIOR_DIMS);
    this.lexical.add(slot, lexicalText(coupon));
    this.ivf.place(slot);
    if (retrain) this.retrain();
  }

  retrain(): void {
    this.ivf.maybeRetrain(this.size);
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.generation++;
    this.slotOf.delete(id);
    this.coupons[slot] = undefined;
    this.cols.places[slot] = undefined;
    this.hasBehavior[slot] = 0;
    this.lexical.remove(slot);
    this.ivf.remove(slot);
    this.free.push(slot);
  }

  get(id: string, withVectors: boolean): StoredCoupon | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    return { coupon: this.coupons[slot]!, ...(withVectors && this.vectorsOf(slot)) };
  }

  knn(query: Float32Array, k: number, filter: Filter | undefined, withVectors: boolean): Hit[] {
    const accept = compilePredicate(filter, this.cols);
    const { coupons, vectors, dims } = this;
    const top = new TopK(k, this.idOf);
    const probe = this.ivf.probeOrder(query);
    if (!probe) {
      for (let slot = 0; slot < coupons.length; slot++) {
        if (coupons[slot] && accept(slot)) top.offer(slot, dotAt(vectors, slot * dims, query, 0, dims));
      }
      return this.hits(top, withVectors);
    }
    // The top k is full exactly when k rows passed the filter, so a row's filter is tested only
    // once its score could enter: after the first k, a few hundred rows of the thousands scored.
    // Lists this vector was already scored against (the same query under another filter) are not scored again.
    const scanned = this.recentVectors.entry(query, this.generation, probe.arena);
    let seen = 0;
    for (let n = 0; n < probe.lists.length; n++) {
      const list = probe.lists[n]!;
      if (seen >= probe.minRows && top.full) break;
      seen += list.length;
      if (n === scanned.blocks) scanned.append(list.slots, list.length ? probe.arena.scores(list.at, list.length) : NO_SCORES, list.length);
      const { slots, scores } = scanned;
      let threshold = top.threshold;
      for (let i = scanned.start(n), end = scanned.end(n); i < end; i++) {
        const s = scores[i]!;
        if (!(s >= threshold) || !accept(slots[i]!)) continue;
        top.offer(slots[i]!, s);
        threshold = top.threshold;
      }
    }
    return this.hits(top, withVectors);
  }

  knnBehavior(query: Float32Array, k: number, filter: Filter | undefined, withVectors: boolean): Hit[] {
    const accept = compilePredicate(filter, this.cols);
    const top = new TopK(k, this.idOf);
    const { coupons, behaviors, hasBehavior } = this;
    for (let slot = 0; slot < coupons.length; slot++) {
      if (!coupons[slot] || !hasBehavior[slot] || !accept(slot)) continue;
      top.offer(slot, dotAt(behaviors, slot * BEHAVIOR_DIMS, query, 0, BEHAVIOR_DIMS));
    }
    return this.hits(top, withVectors);
  }

  search(query: string, k: number, filter: Filter | undefined, withVectors: boolean): Hit[] {
    return this.hitsAt(this.lexical.search(query, k, compilePredicate(filter, this.cols), this.idOf), withVectors);
  }

  /** The ids of the coupons that pass the filter (what the compiled filters are tested by). */
  select(filter: Filter | undefined): string[] {
    const accept = compilePredicate(filter, this.cols);
    return this.coupons.flatMap((c, slot) => (c && accept(slot) ? [c.id] : []));
  }

  /** Resolves when a background retraining of the IVF partition has finished. */
  settled(): Promise<void> {
    return this.ivf.settled();
  }

  private hits(top: TopK, withVectors: boolean): Hit[] {
    return this.hitsAt(top.sorted(), withVectors);
  }

  private hitsAt(found: ReadonlyArray<{ slot: number; score: number }>, withVectors: boolean): Hit[] {
    const copies = withVectors ? this.vectorCopies(found.map((f) => f.slot)) : undefined;
    const hits: Hit[] = new Array(found.length);
    for (let i = 0; i < found.length; i++) {
      const { slot, score } = found[i]!;
      const coupon = this.coupons[slot]!;
      hits[i] = copies ? { id: coupon.id, score, coupon, vector: copies.vector(i), behavior: copies.behavior(i) } : { id: coupon.id, score, coupon };
    }
    return hits;
  }

  private vectorsOf(slot: number): { vector: Float32Array; behavior: Float32Array | undefined } {
    const copies = this.vectorCopies([slot]);
    return { vector: copies.vector(0), behavior: copies.behavior(0) };
  }

  /**
   * Copies of the slots' vectors (a slot is reused after a delete, and a caller may hold a hit for
   * a while), all in one block per kind: one allocation per search instead of two per hit, which
   * the garbage collector felt.
   */
  private vectorCopies(slots: readonly number[]): { vector(i: number): Float32Array; behavior(i: number): Float32Array | undefined } {
    const { dims, hasBehavior } = this;
    let withBehavior = 0;
    for (const slot of slots) withBehavior += hasBehavior[slot]!;
    const vectors = new Float32Array(slots.length * dims);
    const behaviors = new Float32Array(withBehavior * BEHAVIOR_DIMS);
    const behaviorAt = new Int32Array(slots.length).fill(-1);
    let b = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      vectors.set(this.vectors.subarray(slot * dims, (slot + 1) * dims), i * dims);
      if (!hasBehavior[slot]) continue;
      behaviors.set(this.behaviors.subarray(slot * BEHAVIOR_DIMS, (slot + 1) * BEHAVIOR_DIMS), b * BEHAVIOR_DIMS);
      behaviorAt[i] = b++;
    }
    return {
      vector: (i) => vectors.subarray(i * dims, (i + 1) * dims),
      behavior: (i) => (behaviorAt[i]! >= 0 ? behaviors.subarray(behaviorAt[i]! * BEHAVIOR_DIMS, (behaviorAt[i]! + 1) * BEHAVIOR_DIMS) : undefined),
    };
  }

  private reserve(slots: number): void {
    if (slots * this.dims <= this.vectors.length) return;
    const capacity = Math.max(slots, 2 * (this.vectors.length / this.dims));
    const vectors = new Float32Array(capacity * this.dims);
    vectors.set(this.vectors);
    this.vectors = vectors;
    const behaviors = new Float32Array(capacity * BEHAVIOR_DIMS);
    behaviors.set(this.behaviors);
    this.behaviors = behaviors;
    const has = new Uint8Array(capacity);
    has.set(this.hasBehavior);
    this.hasBehavior = has;
    const versions = new Float64Array(capacity);
    versions.set(this.versionAt);
    this.versionAt = versions;
    this.cols = grownColumns(this.cols, capacity);
  }
}
