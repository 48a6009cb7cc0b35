import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Embedder, l2normalize, projectVector } from './embedder.ts';
import { loadWeights, saveWeights } from './weights-file.ts';

/**
 * A linear map from a sentence encoder's space (USE-lite, 512-d) into the static embedder's
 * document space, fitted by ridge regression on texts embedded by both. Static word vectors index
 * fast but miss paraphrase ("car service" shares no word, and little meaning word by word, with
 * "oil change"); the sentence encoder gets it. Queries go through both and the sum lands in the
 * document space, so documents never pay for the sentence encoder.
 */
export interface QueryBridge {
  readonly source: string;
  readonly target: string;
  readonly inDims: number;
  readonly outDims: number;
  /** inDims × outDims, row-major. */
  readonly matrix: Float32Array;
}

export interface QueryBridgeMetadata {
  name: 'query-bridge';
  created_at: string;
  source: string;
  target: string;
  dims: { in: number; out: number };
  ridge: number;
  fit: Record<string, unknown>;
}

/** Ridge regression Y ≈ X·M: M = (XᵀX + λI)⁻¹ XᵀY, solved by Cholesky in float64. */
export function fitQueryBridge(
  sources: readonly Float32Array[],
  targets: readonly Float32Array[],
  spaces: { source: string; target: string },
  ridge = 0.1,
): QueryBridge {
  const n = sources.length;
  if (n === 0 || n !== targets.length) throw new Error(`fitQueryBridge: ${n} sources and ${targets.length} targets`);
  const inDims = sources[0]!.length;
  const outDims = targets[0]!.length;
  const a = new Float64Array(inDims * inDims);
  const b = new Float64Array(inDims * outDims);
  for (let r = 0; r < n; r++) {
    const x = sources[r]!;
    const y = targets[r]!;
    for (let i = 0; i < inDims; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      for (let j = i; j < inDims; j++) a[i * inDims + j]! += xi * x[j]!;
      for (let j = 0; j < outDims; j++) b[i * outDims + j]! += xi * y[j]!;
    }
  }
  for (let i = 0; i < inDims; i++) {
    a[i * inDims + i]! += ridge;
    for (let j = 0; j < i; j++) a[i * inDims + j] = a[j * inDims + i]!;
  }
  // Cholesky: A = L·Lᵀ (A is symmetric positive definite thanks to the ridge term).
  const l = new Float64Array(inDims * inDims);
  for (let i = 0; i < inDims; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * inDims + j]!;
      for (let k = 0; k < j; k++) s -= l[i * inDims + k]! * l[j * inDims + k]!;
      l[i * inDims + j] = i === j ? Math.sqrt(s) : s / l[j * inDims + j]!;
    }
  }
  const matrix = new Float32Array(inDims * outDims);
  const z = new Float64Array(inDims);
  for (let c = 0; c < outDims; c++) {
    for (let i = 0; i < inDims; i++) {
      let s = b[i * outDims + c]!;
      for (let k = 0; k < i; k++) s -= l[i * inDims + k]! * z[k]!;
      z[i] = s / l[i * inDims + i]!;
    }
    for (let i = inDims - 1; i >= 0; i--) {
      let s = z[i]!;
      for (let k = i + 1; k < inDims; k++) s -= l[k * inDims + i]! * matrix[k * outDims + c]!;
      matrix[i * outDims + c] = s / l[i * inDims + i]!;
    }
  }
  return { ...spaces, inDims, outDims, matrix };
}

/** x · M, L2-normalised. */
export function bridgeVector(bridge: QueryBridge, x: Float32Array): Float32Array {
  return l2normalize(projectVector(x, bridge.matrix, bridge.inDims, bridge.outDims));
}

export async function saveQueryBridge(dir: string, bridge: QueryBridge, metadata: QueryBridgeMetadata): Promise<void> {
  await saveWeights(
    dir,
    [{ name: 'bridge', shape: [bridge.inDims, bridge.outDims], data: bridge.matrix }],
    { 'metadata.json': `${JSON.stringify(metadata, null, 2)}\n` },
    'coupon-search train:embedder --bridge',
  );
}

/** The bridge saved in `dir`, or undefined when there is none. */
export async function loadQueryBridge(dir: string): Promise<{ bridge: QueryBridge; metadata: QueryBridgeMetadata } | undefined> {
  if (!existsSync(path.join(dir, 'metadata.json'))) return undefined;
  const metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as QueryBridgeMetadata;
  const matrix = (await loadWeights(dir)).tensors.get('bridge')?.data;
  if (!matrix || matrix.length !== metadata.dims.in * metadata.dims.out) throw new Error(`${dir}: weights.bin does not match metadata.json`);
  return { bridge: { source: metadata.source, target: metadata.target, inDims: metadata.dims.in, outDims: metadata.dims.out, matrix }, metadata };
}

/**
 * The query side of a bridged space: static(q) + weight · bridge(sentence(q)), L2-normalised
 * (weight Infinity: the bridged sentence vector alone). Same id and dims as the document
 * embedder, because its vectors live in the documents' space.
 */
export class BridgedQueryEmbedder implements Embedder {
  constructor(
    private readonly documents: Embedder,
    private readonly sentences: Embedder,
    private readonly bridge: QueryBridge,
    private readonly weight: number,
  ) {}

  /** The documents' space, which its vectors live in. */
  get id(): string {
    return this.documents.id;
  }

  get dims(): number {
    return this.documents.dims;
  }

  async ready(): Promise<void> {
    await Promise.all([this.documents.ready(), this.sentences.ready()]);
    if (this.sentences.id !== this.bridge.source || this.documents.id !== this.bridge.target) {
      throw new Error(
        `the query bridge maps ${this.bridge.source} → ${this.bridge.target}, the engine has ${this.sentences.id} → ${this.documents.id}: refit it with npm run train:embedder -- --bridge`,
      );
    }
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const sentence = await this.sentences.embed(texts);
    const bridged = sentence.map((v) => bridgeVector(this.bridge, v));
    if (this.weight === Infinity) return bridged;
    const own = await this.documents.embed(texts);
    return own.map((v, i) => combineQueryVectors(v, bridged[i]!, this.weight));
  }

  async close(): Promise<void> {
    await this.sentences.close();
  }
}

/** normalize(own + weight · bridged): both unit vectors, so the weight is their ratio. */
export function combineQueryVectors(own: Float32Array, bridged: Float32Array, weight: number): Float32Array {
  const out = new Float32Array(own.length);
  for (let i = 0; i < own.length; i++) out[i] = own[i]! + weight * bridged[i]!;
  return l2normalize(out);
}
