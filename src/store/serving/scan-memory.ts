type Scores = Float32Array | Float64Array;

/**
 * What a few recent scans scored, so that the same query searched again under another filter
 * scores no row twice. The search path does that whenever it counts a facet that its filter
 * constrains: the facet is counted over the same query's retrieval without that constraint,
 * which runs beside the search's own (`search/stages/facets.ts`, disjunctive faceting).
 *
 * An entry holds one query's scores in blocks, in the order the scan computed them (kNN: one
 * block per IVF list, in probe order; BM25: one block, every row a query term matched). It is
 * keyed by the query (the vector object itself, or the text), the index's generation (bumped by
 * every write) and an epoch (the IVF partition, which a retraining replaces), so a write in
 * between makes the next scan start afresh. Buffers are reused round-robin and copied into with
 * `set`: a scan allocates nothing for this once they have grown.
 */
export class ScanMemory<Q, S extends Scores> {
  private readonly entries: ScanEntry<Q, S>[];
  private next = 0;

  constructor(makeScores: (length: number) => S, size = 4) {
    this.entries = Array.from({ length: size }, () => new ScanEntry<Q, S>(makeScores));
  }

  /** The entry holding what scans of `query` at this generation and epoch scored so far (none yet: empty). */
  entry(query: Q, generation: number, epoch?: object): ScanEntry<Q, S> {
    for (const e of this.entries) if (e.holds(query, generation, epoch)) return e;
    const e = this.entries[this.next]!;
    this.next = (this.next + 1) % this.entries.length;
    e.reset(query, generation, epoch);
    return e;
  }
}

export class ScanEntry<Q, S extends Scores> {
  private query: Q | undefined;
  private generation = -1;
  private epoch: object | undefined;
  /** Rows (slots) and their scores, block after block; block n is `[start(n), end(n))`. */
  slots = new Int32Array(1024);
  scores: S;
  private starts = new Int32Array(64);
  /** Blocks stored. */
  blocks = 0;

  constructor(private readonly makeScores: (length: number) => S) {
    this.scores = makeScores(1024);
  }

  holds(query: Q, generation: number, epoch: object | undefined): boolean {
    return this.query === query && this.generation === generation && this.epoch === epoch;
  }

  reset(query: Q, generation: number, epoch: object | undefined): void {
    this.query = query;
    this.generation = generation;
    this.epoch = epoch;
    this.blocks = 0;
    this.starts[0] = 0;
  }

  start(block: number): number {
    return this.starts[block]!;
  }

  end(block: number): number {
    return this.starts[block + 1]!;
  }

  /** Stores the next block: the first `length` rows of `slots` and `scores`. */
  append(slots: Int32Array, scores: S, length: number): void {
    if (this.blocks + 2 > this.starts.length) this.starts = grown(this.starts, this.blocks + 2, (n) => new Int32Array(n));
    const at = this.starts[this.blocks]!;
    if (at + length > this.slots.length) {
      this.slots = grown(this.slots, at + length, (n) => new Int32Array(n));
      this.scores = grown(this.scores, at + length, this.makeScores);
    }
    this.slots.set(slots.subarray(0, length), at);
    this.scores.set(scores.subarray(0, length), at);
    this.starts[++this.blocks] = at + length;
  }
}

function grown<T extends Int32Array | Scores>(a: T, need: number, make: (n: number) => T): T {
  const b = make(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}
