import { nextTurn } from '../../util/next-turn.ts';
import { seededRandom } from '../../util/random.ts';
import { blockRows, VectorArena } from './vector-arena.ts';

/**
 * One centroid's rows: their slots, and a copy of their vectors as one block of the partition's
 * arena (from float offset `at`, room for `capacity` rows), so that a search scores each probed
 * list in one SIMD call instead of reading rows scattered over the whole table.
 */
export interface IvfList {
  slots: Int32Array;
  at: number;
  capacity: number;
  length: number;
}

/** Rows → lists of nearest centroids; a slot's list and position kept for O(1) removal. */
interface Partition {
  dims: number;
  arena: VectorArena;
  /** The centroids' block in the arena (one row each, as many as lists). */
  centroidsAt: number;
  lists: IvfList[];
  listOf: Int32Array;
  posInList: Int32Array;
}

const SAMPLE = 20_000;
const ITERATIONS = 6;
/** Rows scored between two yields of the event loop while (re)training, so searches keep running. */
const CHUNK = 1_000;

/**
 * The dot product of the rows at `ai` in `a` and `bi` in `b`; four sums at once, which V8 runs
 * ~1.5× faster than one. The scans outside the IVF arena (exact search below the partition's
 * threshold, behaviour vectors) use it.
 */
export function dotAt(a: Float32Array, ai: number, b: Float32Array, bi: number, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dims; d += 4) {
    s0 += a[ai + d]! * b[bi + d]!;
    s1 += a[ai + d + 1]! * b[bi + d + 1]!;
    s2 += a[ai + d + 2]! * b[bi + d + 2]!;
    s3 += a[ai + d + 3]! * b[bi + d + 3]!;
  }
  for (; d < dims; d++) s0 += a[ai + d]! * b[bi + d]!;
  return s0 + s1 + s2 + s3;
}

/**
 * An inverted-file (IVF) partition of the vectors: √n/2 centroids by spherical k-means on a sample,
 * every row in the list of its nearest centroid. A search scores the centroids, then the rows of
 * the nearest lists in order until it has seen `probeShare` of the rows and k that pass the filter,
 * so a selective filter widens the search instead of returning fewer. New rows go to the list of
 * their nearest centroid; the partition is retrained in the background when the rows have doubled
 * since it was trained, and writes made meanwhile are replayed into the new lists before the swap.
 */
export class IvfIndex {
  private partition: Partition | undefined;
  private trainedAt = 0;
  private training: Promise<void> | undefined;
  /** Slots written while a retraining runs: re-placed in the new partition before it takes over. */
  private dirty: Set<number> | undefined;

  constructor(
    private readonly dims: number,
    private readonly probeShare: number,
    /** Rows from which the partition is trained (below it, search is exact). */
    private readonly threshold: number,
    private readonly vectors: () => Float32Array,
    private readonly liveSlots: () => number[],
  ) {}

  get trained(): boolean {
    return this.partition !== undefined;
  }

  /**
   * Lists to visit in order of centroid similarity, and the arena that scores them (its query set
   * to `query`), or undefined when there is no partition (exact search).
   */
  probeOrder(query: Float32Array): { lists: IvfList[]; minRows: number; arena: VectorArena } | undefined {
    const p = this.partition;
    if (!p) return undefined;
    const n = p.lists.length;
    p.arena.setQuery(query);
    const sims = p.arena.scores(p.centroidsAt, n).slice();
    const order = Array.from({ length: n }, (_, c) => c).sort((a, b) => sims[b]! - sims[a]!);
    let rows = 0;
    for (const list of p.lists) rows += list.length;
    return { lists: order.map((c) => p.lists[c]!), minRows: Math.ceil(rows * this.probeShare), arena: p.arena };
  }

  place(slot: number): void {
    this.dirty?.add(slot);
    if (this.partition) assign(this.partition, slot, this.vectors(), this.dims);
  }

  remove(slot: number): void {
    this.dirty?.add(slot);
    if (this.partition) unassign(this.partition, slot);
  }

  /** Retrains in the background when the rows reached the threshold and have doubled since the last training. */
  maybeRetrain(rows: number): void {
    if (this.training || rows < this.threshold || (this.partition && rows < 2 * this.trainedAt)) return;
    this.training = this.retrain().finally(() => {
      this.training = undefined;
      // Rows that arrived during the training may already have doubled the table again.
      this.maybeRetrain(this.liveSlots().length);
    });
  }

  /** Resolves when no retraining is running (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.training) await this.training;
  }

  private async retrain(): Promise<void> {
    this.dirty = new Set();
    const slots = this.liveSlots();
    const vectors = this.vectors;
    const dims = this.dims;
    const nlist = Math.max(8, Math.round(Math.sqrt(slots.length) / 2));
    const rand = seededRandom(slots.length);
    const sample = slots.length <= SAMPLE ? slots : Array.from({ length: SAMPLE }, () => slots[Math.floor(rand() * slots.length)]!);
    // The centroids live in the new partition's arena from the start: k-means scores every
    // sampled row against all of them, six times over, with the same SIMD kernel as searches.
    const arena = new VectorArena(dims);
    const centroidsAt = arena.alloc(blockRows(nlist));
    const centroids = new Float32Array(nlist * dims);
    for (let c = 0; c < nlist; c++) {
      const at = sample[Math.floor(rand() * sample.length)]! * dims;
      centroids.set(vectors().subarray(at, at + dims), c * dims);
    }
    for (let it = 0; it < ITERATIONS; it++) {
      for (let c = 0; c < nlist; c++) arena.write(centroidsAt + c * arena.stride, centroids, c * dims);
      const sums = new Float64Array(nlist * dims);
      const counts = new Int32Array(nlist);
      for (let i = 0; i < sample.length; i++) {
        if (i % CHUNK === CHUNK - 1) await nextTurn();
        const v = vectors();
        const at = sample[i]! * dims;
        const c = nearest(arena, centroidsAt, nlist, v, at);
        counts[c]!++;
        for (let d = 0; d < dims; d++) sums[c * dims + d] = sums[c * dims + d]! + v[at + d]!;
      }
      for (let c = 0; c < nlist; c++) {
        // An empty centroid restarts at a random sampled row.
        if (counts[c] === 0) {
          const at = sample[Math.floor(rand() * sample.length)]! * dims;
          for (let d = 0; d < dims; d++) sums[c * dims + d] = vectors()[at + d]!;
        }
        let norm = 0;
        for (let d = 0; d < dims; d++) norm += sums[c * dims + d]! ** 2;
        norm = Math.sqrt(norm) || 1;
        for (let d = 0; d < dims; d++) centroids[c * dims + d] = sums[c * dims + d]! / norm;
      }
    }
    let capacity = 1;
    for (const slot of slots) capacity = Math.max(capacity, slot + 1);
    for (let c = 0; c < nlist; c++) arena.write(centroidsAt + c * arena.stride, centroids, c * dims);
    const next: Partition = {
      dims,
      arena,
      centroidsAt,
      lists: Array.from({ length: nlist }, () => {
        const capacity = blockRows(0);
        return { slots: new Int32Array(capacity), at: arena.alloc(capacity), capacity, length: 0 };
      }),
      listOf: new Int32Array(capacity).fill(-1),
      posInList: new Int32Array(capacity),
    };
    for (let i = 0; i < slots.length; i++) {
      if (i % CHUNK === CHUNK - 1) await nextTurn();
      assign(next, slots[i]!, vectors(), dims);
    }
    // Rows written during the training: their place in the new lists is taken again from now.
    const live = new Set(this.liveSlots());
    for (const slot of this.dirty) {
      unassign(next, slot);
      if (live.has(slot)) assign(next, slot, vectors(), dims);
    }
    this.dirty = undefined;
    this.partition = next;
    this.trainedAt = slots.length;
  }
}

/** The centroid (of `nlist` from `centroidsAt` in `arena`) nearest to the row at `at` of `v`. */
function nearest(arena: VectorArena, centroidsAt: number, nlist: number, v: Float32Array, at: number): number {
  arena.setQuery(v, at);
  const sims = arena.scores(centroidsAt, nlist);
  let best = 0;
  let bestSim = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < nlist; c++) {
    const s = sims[c]!;
    if (s > bestSim) {
      bestSim = s;
      best = c;
    }
  }
  return best;
}

function assign(p: Partition, slot: number, vectors: Float32Array, dims: number): void {
  unassign(p, slot);
  if (slot >= p.listOf.length) {
    const listOf = new Int32Array(Math.max(slot + 1, p.listOf.length * 2)).fill(-1);
    listOf.set(p.listOf);
    const pos = new Int32Array(listOf.length);
    pos.set(p.posInList);
    p.listOf = listOf;
    p.posInList = pos;
  }
  const c = nearest(p.arena, p.centroidsAt, p.lists.length, vectors, slot * dims);
  const list = p.lists[c]!;
  const { arena } = p;
  if (list.length === list.capacity) {
    const capacity = list.capacity * 2;
    const slots = new Int32Array(capacity);
    slots.set(list.slots);
    const at = arena.alloc(capacity);
    arena.floats.copyWithin(at, list.at, list.at + list.length * arena.stride);
    arena.free(list.at, list.capacity);
    Object.assign(list, { slots, at, capacity });
  }
  list.slots[list.length] = slot;
  arena.write(list.at + list.length * arena.stride, vectors, slot * dims);
  p.listOf[slot] = c;
  p.posInList[slot] = list.length;
  list.length++;
}

function unassign(p: Partition, slot: number): void {
  if (slot >= p.listOf.length) return;
  const c = p.listOf[slot]!;
  if (c < 0) return;
  const list = p.lists[c]!;
  const pos = p.posInList[slot]!;
  const lastPos = --list.length;
  if (pos !== lastPos) {
    const last = list.slots[lastPos]!;
    list.slots[pos] = last;
    const { stride } = p.arena;
    p.arena.floats.copyWithin(list.at + pos * stride, list.at + lastPos * stride, list.at + (lastPos + 1) * stride);
    p.posInList[last] = pos;
  }
  p.listOf[slot] = -1;
}
