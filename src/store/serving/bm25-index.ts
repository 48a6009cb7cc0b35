import { tokenize } from '../../text/tokenize.ts';
import { type ScanEntry, ScanMemory } from './scan-memory.ts';
import { TopK } from './top-k.ts';

const K1 = 1.2;
const B = 0.75;

/** One term's postings: parallel typed arrays, appended to; a posting is live while its generation is its slot's. */
interface Postings {
  slots: Int32Array;
  gens: Int32Array;
  tfs: Uint16Array;
  length: number;
  live: number;
}

function grow<T extends Int32Array | Uint16Array | Float32Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, a.length * 2, 4));
  b.set(a);
  return b;
}

/**
 * BM25 (k1 1.2, b 0.75, Lucene's IDF) over the engine's tokenizer (`text/tokenize.ts`, the same
 * terms the Qdrant adapter's sparse vectors and the ranking features use), held in typed arrays so
 * that 100,000 coupons add a few million numbers to the heap rather than millions of objects.
 * A rewritten or removed row bumps its slot's generation instead of editing postings; a term's
 * list is compacted once its dead postings outnumber the live ones.
 */
export class Bm25Index {
  private readonly terms = new Map<string, Postings>();
  private slotGen = new Int32Array(1024);
  private docLen = new Float32Array(1024);
  private readonly slotTerms: Array<Postings[] | undefined> = [];
  private docs = 0;
  private totalLen = 0;
  private scratch = new Float64Array(1024);
  private touched = new Int32Array(1024);
  private sums = new Float64Array(1024);
  /** Bumped by every write: what `recent` holds from before it is not used. */
  private generation = 0;
  private readonly recent = new ScanMemory<string, Float64Array>((n) => new Float64Array(n));

  add(slot: number, text: string): void {
    this.generation++;
    if (this.slotTerms[slot]) this.remove(slot);
    const tokens = tokenize(text);
    const counts = new Map<string, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    this.slotGen = grow(this.slotGen, slot + 1, (n) => new Int32Array(n));
    this.docLen = grow(this.docLen, slot + 1, (n) => new Float32Array(n));
    const gen = this.slotGen[slot]!;
    const lists: Postings[] = [];
    for (const [term, tf] of counts) {
      let p = this.terms.get(term);
      if (!p) this.terms.set(term, (p = { slots: new Int32Array(4), gens: new Int32Array(4), tfs: new Uint16Array(4), length: 0, live: 0 }));
      p.slots = grow(p.slots, p.length + 1, (n) => new Int32Array(n));
      p.gens = grow(p.gens, p.length + 1, (n) => new Int32Array(n));
      p.tfs = grow(p.tfs, p.length + 1, (n) => new Uint16Array(n));
      p.slots[p.length] = slot;
      p.gens[p.length] = gen;
      p.tfs[p.length] = Math.min(tf, 65_535);
      p.length++;
      p.live++;
      lists.push(p);
    }
    this.slotTerms[slot] = lists;
    this.docLen[slot] = tokens.length;
    this.docs++;
    this.totalLen += tokens.length;
  }

  remove(slot: number): void {
    const lists = this.slotTerms[slot];
    if (!lists) return;
    this.generation++;
    this.slotGen[slot] = this.slotGen[slot]! + 1;
    for (const p of lists) {
      p.live--;
      if (p.length - p.live > Math.max(16, p.live)) this.compact(p);
    }
    this.slotTerms[slot] = undefined;
    this.docs--;
    this.totalLen -= this.docLen[slot]!;
  }

  /** The k best-scoring slots that pass `accept`, best first (ties by id). */
  search(query: string, k: number, accept: (slot: number) => boolean, idOf: (slot: number) => string): Array<{ slot: number; score: number }> {
    if (k <= 0) return [];
    // The same words searched again under another filter (a facet's count beside the search) reuse the sums.
    const summed = this.recent.entry(query, this.generation);
    if (summed.blocks === 0) this.sum(query, summed);
    const top = new TopK(k, idOf);
    const { slots, scores } = summed;
    for (let i = 0, end = summed.end(0); i < end; i++) {
      const slot = slots[i]!;
      const score = scores[i]!;
      if (score >= top.threshold && accept(slot)) top.offer(slot, score);
    }
    return top.sorted();
  }

  /** Sums the query terms' BM25 scores per row into `into`, as one block: the rows any term matched. */
  private sum(query: string, into: ScanEntry<string, Float64Array>): void {
    const lists = [...new Set(tokenize(query))].map((t) => this.terms.get(t)).filter((p): p is Postings => !!p && p.live > 0);
    const capacity = this.slotGen.length;
    if (this.scratch.length < capacity) {
      this.scratch = new Float64Array(capacity);
      this.touched = new Int32Array(capacity);
      this.sums = new Float64Array(capacity);
    }
    const { scratch, touched, sums, slotGen, docLen } = this;
    const avgLen = this.totalLen / Math.max(1, this.docs);
    let touchedCount = 0;
    for (const p of lists) {
      const idf = Math.log(1 + (this.docs - p.live + 0.5) / (p.live + 0.5));
      for (let i = 0; i < p.length; i++) {
        const slot = p.slots[i]!;
        if (p.gens[i] !== slotGen[slot]) continue;
        const tf = p.tfs[i]!;
        const score = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * docLen[slot]!) / avgLen));
        if (scratch[slot] === 0) touched[touchedCount++] = slot;
        scratch[slot] = scratch[slot]! + score;
      }
    }
    for (let i = 0; i < touchedCount; i++) {
      const slot = touched[i]!;
      sums[i] = scratch[slot]!;
      scratch[slot] = 0;
    }
    into.append(touched, sums, touchedCount);
  }

  private compact(p: Postings): void {
    let w = 0;
    for (let i = 0; i < p.length; i++) {
      if (p.gens[i] !== this.slotGen[p.slots[i]!]) continue;
      p.slots[w] = p.slots[i]!;
      p.gens[w] = p.gens[i]!;
      p.tfs[w] = p.tfs[i]!;
      w++;
    }
    p.length = w;
  }
}
