/**
 * The embedder port: text in, unit-length vectors out. Adapters: Universal Sentence Encoder Lite
 * (`use-lite.ts`, the offline default) and transformers.js (`transformers.ts`).
 */
export interface Embedder {
  /** Names the vector space, e.g. `use-lite@1`; stored beside the vectors to detect a model change. */
  readonly id: string;
  readonly dims: number;
  /** Loads weights; idempotent. */
  ready(): Promise<void>;
  /** One L2-normalised vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * Scales `v` to unit length in place. A vector with no direction (a text made only of words the
 * model does not know pools to zeros, or NaN) becomes the uniform unit vector: such texts carry no
 * meaning for the model, so they sit together instead of poisoning cosine scores with NaN.
 */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0 && Number.isFinite(norm)) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  else v.fill(1 / Math.sqrt(v.length));
  return v;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** x (1 × inDims) · M (inDims × outDims, row-major): the learned projections of the embedders. */
export function projectVector(x: ArrayLike<number>, matrix: Float32Array, inDims: number, outDims: number): Float32Array {
  const y = new Float32Array(outDims);
  for (let i = 0; i < inDims; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const o = i * outDims;
    for (let j = 0; j < outDims; j++) y[j]! += xi * matrix[o + j]!;
  }
  return y;
}
