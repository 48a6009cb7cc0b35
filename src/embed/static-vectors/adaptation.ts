import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadWeights, saveWeights } from '../weights-file.ts';

/**
 * A domain adaptation of the static embedder, learned from the product's own query → coupon pairs
 * (`npm run train:embedder`): fine-tuned rows for the words its data uses, and a projection.
 */
export interface EmbedderAdaptation {
  /** Names the learned space (`adapt-<hash of the weights>`): part of the vector-space id. */
  readonly id: string;
  readonly words: readonly string[];
  readonly rowOf: ReadonlyMap<string, number>;
  /** words.length × inDims. */
  readonly rows: Float32Array;
  /** inDims × outDims. */
  readonly projection: Float32Array;
  readonly inDims: number;
  readonly outDims: number;
}

export interface AdaptationMetadata {
  name: 'static-embedder-adaptation';
  version: string;
  created_at: string;
  /** The table it was trained over; serving refuses an adaptation of another table. */
  base: { embedder: string; table: string };
  dims: { in: number; out: number };
  words: number;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

/** Writes an adaptation in TF.js's weights format, with `metadata.json` and `vocab.json` beside it. */
export async function saveAdaptation(dir: string, adaptation: Omit<EmbedderAdaptation, 'id' | 'rowOf'>, metadata: AdaptationMetadata): Promise<void> {
  await saveWeights(
    dir,
    [
      { name: 'word_rows', shape: [adaptation.words.length, adaptation.inDims], data: adaptation.rows },
      { name: 'projection', shape: [adaptation.inDims, adaptation.outDims], data: adaptation.projection },
    ],
    { 'vocab.json': JSON.stringify(adaptation.words), 'metadata.json': `${JSON.stringify(metadata, null, 2)}\n` },
    'coupon-search train:embedder',
  );
}

/** Reads an adaptation saved by `saveAdaptation`, checking that it was trained over `tableFingerprint`. */
export async function loadAdaptation(dir: string, tableFingerprint: string): Promise<{ adaptation: EmbedderAdaptation; metadata: AdaptationMetadata }> {
  const metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as AdaptationMetadata;
  if (metadata.base.table !== tableFingerprint) {
    throw new Error(`${dir}: trained over word table ${metadata.base.table}, this install has ${tableFingerprint}: retrain with npm run train:embedder`);
  }
  const { tensors, bytes } = await loadWeights(dir);
  const words = JSON.parse(await readFile(path.join(dir, 'vocab.json'), 'utf8')) as string[];
  const rows = tensors.get('word_rows')?.data;
  const projection = tensors.get('projection')?.data;
  if (!rows || !projection || rows.length !== words.length * metadata.dims.in || projection.length !== metadata.dims.in * metadata.dims.out) {
    throw new Error(`${dir}: weights.bin does not match metadata.json (retrain with npm run train:embedder)`);
  }
  return {
    adaptation: {
      id: `adapt-${createHash('sha256').update(bytes).digest('hex').slice(0, 10)}`,
      words,
      rowOf: new Map(words.map((w, i) => [w, i])),
      rows,
      projection,
      inDims: metadata.dims.in,
      outDims: metadata.dims.out,
    },
    metadata,
  };
}
