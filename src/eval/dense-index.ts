import { tieHash } from '../util/ranking-metrics.ts';

/**
 * Exact nearest neighbours over a packed matrix of unit vectors, for evaluations: no ANN error in
 * the figures, ties broken by a hash of the id (never by corpus order, which leaks labels).
 */
export class ExactDenseIndex {
  readonly dims: number;
  private readonly matrix: Float32Array;

  constructor(
    readonly ids: readonly string[],
    vectors: readonly Float32Array[],
  ) {
    this.dims = vectors[0]?.length ?? 0;
    this.matrix = new Float32Array(ids.length * this.dims);
    vectors.forEach((v, i) => this.matrix.set(v, i * this.dims));
  }

  /** The k best by cosine, best first. */
  search(query: Float32Array, k: number): Array<{ id: string; score: number }> {
    const { dims, matrix } = this;
    const n = this.ids.length;
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * dims;
      for (let d = 0; d < dims; d++) s += matrix[o + d]! * query[d]!;
      scores[i] = s;
    }
    // Partial selection: keep a threshold from a sample, then sort the survivors.
    let order: number[] = [];
    let threshold = -Infinity;
    if (n > k * 4) {
      const sample = Array.from({ length: Math.min(n, 2000) }, (_, j) => scores[Math.floor((j * n) / Math.min(n, 2000))]!).sort((a, b) => b - a);
      threshold = sample[Math.min(sample.length - 1, Math.ceil((k * sample.length) / n) * 4)]!;
    }
    for (let i = 0; i < n; i++) if (scores[i]! >= threshold) order.push(i);
    if (order.length < k) order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => scores[b]! - scores[a]! || tieHash(this.ids[b]!) - tieHash(this.ids[a]!));
    return order.slice(0, k).map((i) => ({ id: this.ids[i]!, score: scores[i]! }));
  }

  vector(i: number): Float32Array {
    return this.matrix.subarray(i * this.dims, (i + 1) * this.dims);
  }
}
