/**
 * The k best slots seen, best = highest score, ties by the smaller id (as the brute-force oracle
 * orders them), so two processes holding the same rows in different slots answer alike. A binary
 * min-heap on typed arrays: a scan over thousands of rows allocates nothing per row and costs
 * O(log k) only for rows that enter the top k.
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private size = 0;

  constructor(
    private readonly k: number,
    private readonly idOf: (slot: number) => string,
  ) {
    this.scores = new Float64Array(Math.max(1, k));
    this.slots = new Int32Array(Math.max(1, k));
  }

  /** The score a row must reach to enter (−∞ until k rows are in). */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  /** Whether k rows are in. */
  get full(): boolean {
    return this.size >= this.k;
  }

  /** Whether (sa, a) ranks below (sb, b). */
  private worse(sa: number, a: number, sb: number, b: number): boolean {
    return sa < sb || (sa === sb && this.idOf(a) > this.idOf(b));
  }

  offer(slot: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(score, slot, this.scores[parent]!, this.slots[parent]!)) break;
        this.scores[i] = this.scores[parent]!;
        this.slots[i] = this.slots[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (!this.worse(this.scores[0]!, this.slots[0]!, score, slot)) return;
    // Replace the root (the worst kept) and sift down.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.worse(this.scores[right]!, this.slots[right]!, this.scores[left]!, this.slots[left]!) ? right : left;
      if (!this.worse(this.scores[child]!, this.slots[child]!, score, slot)) break;
      this.scores[i] = this.scores[child]!;
      this.slots[i] = this.slots[child]!;
      i = child;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** Best first. */
  sorted(): Array<{ slot: number; score: number }> {
    const out: Array<{ slot: number; score: number }> = [];
    for (let i = 0; i < this.size; i++) out.push({ slot: this.slots[i]!, score: this.scores[i]! });
    return out.sort((a, b) => (this.worse(a.score, a.slot, b.score, b.slot) ? 1 : this.worse(b.score, b.slot, a.score, a.slot) ? -1 : 0));
  }
}
