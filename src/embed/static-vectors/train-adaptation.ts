import type { Tensor } from '@tensorflow/tfjs';
import { ProgressBar } from '../../util/progress.ts';
import { seededRandom, shuffle } from '../../util/random.ts';
import { tfRuntime } from '../tf-runtime.ts';
import type { EmbedderAdaptation } from './adaptation.ts';
import { type SifTable, wordTokens } from './sif-table.ts';

/** A query and a coupon (or product) text that answers it. */
export interface TrainingPair {
  query: string;
  document: string;
}

export interface AdaptationOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Softmax temperature of the in-batch contrastive loss. */
  temperature: number;
  /** Pull of every learned row towards its pretrained value (mean squared distance). */
  anchor: number;
  /** Tokens per text kept (the first ones). */
  maxTokens: number;
  seed: number;
}

export const DEFAULT_ADAPTATION_OPTIONS: AdaptationOptions = {
  epochs: 4,
  batchSize: 256,
  learningRate: 0.003,
  temperature: 0.05,
  anchor: 1,
  maxTokens: 24,
  seed: 1,
};

/**
 * Fine-tunes the static embedder on query → document pairs: every word the pairs use gets a
 * trainable row (pretrained SIF row, or zero for words the table lacks), and a projection
 * (identity at first) maps the summed rows. The loss is InfoNCE with in-batch negatives in both
 * directions (each query against every document of its batch and back), plus a pull towards
 * the pretrained rows so rare words do not drift on a handful of pairs.
 */
export async function trainAdaptation(
  table: SifTable,
  pairs: readonly TrainingPair[],
  overrides: Partial<AdaptationOptions> & { progress?: boolean } = {},
): Promise<{ adaptation: Omit<EmbedderAdaptation, 'id' | 'rowOf'> & { rowOf: Map<string, number> }; history: number[]; options: AdaptationOptions }> {
  const { progress, ...rest } = overrides;
  const o: AdaptationOptions = { ...DEFAULT_ADAPTATION_OPTIONS, ...rest };
  const tf = await tfRuntime();
  const dims = table.dims;

  const words: string[] = [];
  const rowOf = new Map<string, number>();
  const encode = (text: string) => {
    const ids: number[] = [];
    for (const w of wordTokens(text).slice(0, o.maxTokens)) {
      let id = rowOf.get(w);
      if (id === undefined) rowOf.set(w, (id = words.push(w) - 1));
      ids.push(id);
    }
    return ids;
  };
  const encoded = pairs.map((p) => ({ q: encode(p.query), d: encode(p.document) }));
  const initial = new Float32Array(words.length * dims);
  words.forEach((w, i) => {
    const r = table.rowOf.get(w);
    if (r !== undefined) initial.set(table.rows.subarray(r * dims, (r + 1) * dims), i * dims);
  });

  const pad = words.length; // index of a constant zero row
  const initialRows = tf.tensor2d(initial, [words.length, dims]);
  const rows = tf.variable(initialRows.clone(), true, 'word_rows');
  const projection = tf.variable(tf.eye(dims), true, 'projection');
  const zero = tf.zeros([1, dims]);
  const optimizer = tf.train.adam(o.learningRate);

  const batchTensor = (lists: number[][]) => {
    const flat = new Int32Array(lists.length * o.maxTokens).fill(pad);
    lists.forEach((ids, i) => flat.set(ids, i * o.maxTokens));
    return tf.tensor2d(flat, [lists.length, o.maxTokens], 'int32');
  };
  const embedBatch = (ids: Tensor): Tensor => {
    const table2 = tf.concat([rows, zero], 0);
    const summed = tf.sum(tf.gather(table2, ids), 1); // [b, dims]
    const projected = tf.matMul(summed, projection);
    // x / sqrt(|x|² + ε): a text with no known word sums to zero, where |x|'s gradient is NaN.
    return tf.mul(projected, tf.rsqrt(tf.add(tf.sum(tf.square(projected), 1, true), 1e-8)));
  };

  const history: number[] = [];
  const steps = Math.ceil(encoded.length / o.batchSize) * o.epochs;
  const bar = progress ? new ProgressBar(`adapting ${words.length} word rows on ${pairs.length} pairs`, steps) : undefined;
  const rand = seededRandom(o.seed);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = shuffle(
      rand,
      encoded.map((_, i) => i),
    );
    let total = 0;
    let batches = 0;
    for (let start = 0; start + 1 < order.length; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize).map((i) => encoded[i]!);
      const q = batchTensor(batch.map((p) => p.q));
      const d = batchTensor(batch.map((p) => p.d));
      const labels = tf.oneHot(tf.range(0, batch.length, 1, 'int32'), batch.length);
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const logits = tf.div(tf.matMul(embedBatch(q), embedBatch(d), false, true), o.temperature);
            const forward = tf.losses.softmaxCrossEntropy(labels, logits);
            const backward = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
            const drift = tf.mul(o.anchor, tf.mean(tf.sum(tf.square(tf.sub(rows, initialRows)), 1)));
            return tf.add(tf.div(tf.add(forward, backward), 2), drift) as import('@tensorflow/tfjs').Scalar;
          }),
        true,
      );
      total += (await loss!.data())[0]!;
      batches++;
      tf.dispose([q, d, labels, loss!]);
      bar?.tick();
    }
    history.push(Number((total / Math.max(1, batches)).toFixed(5)));
  }
  const adaptation = {
    words,
    rowOf,
    rows: (await rows.data()) as Float32Array,
    projection: (await projection.data()) as Float32Array,
    inDims: dims,
    outDims: dims,
  };
  tf.dispose([rows, projection, zero, initialRows]);
  optimizer.dispose();
  return { adaptation, history, options: o };
}
