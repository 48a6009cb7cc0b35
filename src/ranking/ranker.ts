import type * as TF from '@tensorflow/tfjs';
import { tfRuntime } from '../embed/tf-runtime.ts';
import { mean, ndcg } from '../util/ranking-metrics.ts';
import { ProgressBar } from '../util/progress.ts';
import { seededRandom, shuffle } from '../util/random.ts';
import { applyNormalisation, fitNormalisation, type Normalisation } from './features.ts';

/**
 * The learned ranker: an MLP scoring each candidate's normalised feature vector, trained with a
 * listwise softmax cross-entropy over each query's candidate list (Cao et al. 2007; the neural
 * rankers of Qin et al. 2021 use the same loss), with graded gains as the target distribution
 * and optional per-list weights (inverse propensities for click logs).
 */
export interface RankingList {
  features: Float32Array[];
  /** Graded gain per candidate (0 = not relevant). */
  gains: number[];
  /** Importance weight of the whole list. @defaultValue 1 */
  weight?: number;
}

export interface RankerOptions {
  /** @defaultValue [64, 32] */
  hidden?: number[];
  /** Candidates per list (longer lists are cut, shorter padded and masked). @defaultValue 100 */
  listSize?: number;
  /** @defaultValue 32 */
  batchLists?: number;
  /** @defaultValue 30 */
  maxEpochs?: number;
  /** @defaultValue 3 */
  patience?: number;
  /** @defaultValue 0.003 */
  learningRate?: number;
  /** @defaultValue 13 */
  seed?: number;
  progress?: boolean;
}

const DEFAULTS: Required<RankerOptions> = {
  hidden: [64, 32],
  listSize: 100,
  batchLists: 32,
  maxEpochs: 30,
  patience: 3,
  learningRate: 0.003,
  seed: 13,
  progress: true,
};

export class LearnedRanker {
  readonly options: Required<RankerOptions>;
  model: TF.LayersModel | undefined;
  normalisation: Normalisation | undefined;
  history: { loss: number[]; validationNdcg: number[]; bestEpoch: number } = { loss: [], validationNdcg: [], bestEpoch: -1 };

  constructor(options: RankerOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Trains on `train`, early-stopping on the NDCG@10 of `validation` lists. */
  async fit(train: readonly RankingList[], validation: readonly RankingList[]): Promise<void> {
    const tf = (this.tfRef = await tfRuntime());
    const o = this.options;
    const rand = seededRandom(o.seed);
    this.normalisation = fitNormalisation(train.flatMap((l) => l.features));
    const dims = train[0]!.features[0]!.length;
    const input = tf.input({ shape: [dims] });
    let x: TF.SymbolicTensor = input;
    o.hidden.forEach((units, i) => {
      x = tf.layers
        .dense({ units, activation: 'relu', name: `hidden_${i}`, kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + i }) })
        .apply(x) as TF.SymbolicTensor;
    });
    const out = tf.layers
      .dense({ units: 1, name: 'score', kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + 99 }) })
      .apply(x) as TF.SymbolicTensor;
    const model = (this.model = tf.model({ inputs: input, outputs: out, name: 'ranker' }));
    const optimizer = tf.train.adam(o.learningRate);
    const usable = train.filter((l) => l.gains.some((g) => g > 0));
    const L = o.listSize;
    let best = -1;
    let bestWeights: TF.Tensor[] | undefined;
    for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
      const order = shuffle(rand, [...usable.keys()]);
      const bar = o.progress ? new ProgressBar(`ranker epoch ${epoch + 1}`, order.length) : undefined;
      const losses: number[] = [];
      for (let b = 0; b < order.length; b += o.batchLists) {
        const lists = order.slice(b, b + o.batchLists).map((i) => usable[i]!);
        const { x: xs, target, mask, weight } = this.batch(lists, L, dims);
        const loss = tf.tidy(() => {
          const X = tf.tensor2d(xs, [lists.length * L, dims]);
          const T = tf.tensor2d(target, [lists.length, L]);
          const M = tf.tensor2d(mask, [lists.length, L]);
          const W = tf.tensor1d(weight);
          return optimizer.minimize(() => {
            const s = tf.reshape(model.apply(X, { training: true }) as TF.Tensor, [lists.length, L]);
            // Padding gets a score so low its probability is 0.
            const logp = tf.logSoftmax(tf.add(s, tf.mul(tf.sub(1, M), -1e9)));
            const perList = tf.neg(tf.sum(tf.mul(T, tf.mul(logp, M)), 1));
            return tf.div(tf.sum(tf.mul(perList, W)), tf.sum(W)) as TF.Scalar;
          }, true)!;
        });
        losses.push((await loss.data())[0]!);
        loss.dispose();
        bar?.update(Math.min(order.length, b + o.batchLists));
      }
      this.history.loss.push(mean(losses));
      const ndcg = mean(validation.filter((l) => l.gains.some((g) => g > 0)).map((l) => ndcgAt10(this.scoreSync(l.features), l.gains)));
      this.history.validationNdcg.push(ndcg);
      if (o.progress) process.stderr.write(`  epoch ${epoch + 1}: loss ${this.history.loss.at(-1)!.toFixed(4)}, validation NDCG@10 ${ndcg.toFixed(4)}\n`);
      if (ndcg > best) {
        best = ndcg;
        this.history.bestEpoch = epoch;
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (epoch - this.history.bestEpoch >= o.patience) break;
    }
    if (bestWeights) {
      model.setWeights(bestWeights);
      bestWeights.forEach((w) => w.dispose());
    }
  }

  /** Scores candidates in one batched call (features not yet normalised). */
  scoreSync(features: readonly Float32Array[]): Float32Array {
    const tf = this.tfSync();
    const n = this.normalisation!;
    const dims = features[0]?.length ?? 0;
    if (features.length === 0) return new Float32Array();
    const flat = new Float32Array(features.length * dims);
    features.forEach((f, i) => flat.set(applyNormalisation(f, n), i * dims));
    const out = tf.tidy(() => this.model!.predict(tf.tensor2d(flat, [features.length, dims])) as TF.Tensor);
    const scores = out.dataSync() as Float32Array;
    out.dispose();
    return Float32Array.from(scores);
  }

  private tfRef: typeof TF | undefined;
  private tfSync(): typeof TF {
    if (!this.tfRef) throw new Error('LearnedRanker: call fit() or load() first');
    return this.tfRef;
  }

  /** Must be awaited once before scoreSync (fit() does it). */
  async ready(): Promise<void> {
    this.tfRef = await tfRuntime();
  }

  private batch(lists: readonly RankingList[], L: number, dims: number) {
    const n = this.normalisation!;
    const x = new Float32Array(lists.length * L * dims);
    const target = new Float32Array(lists.length * L);
    const mask = new Float32Array(lists.length * L);
    const weight = new Float32Array(lists.length);
    lists.forEach((l, q) => {
      const m = Math.min(L, l.features.length);
      const total = l.gains.slice(0, m).reduce((a, b) => a + b, 0) || 1;
      for (let i = 0; i < m; i++) {
        x.set(applyNormalisation(l.features[i]!, n), (q * L + i) * dims);
        target[q * L + i] = l.gains[i]! / total;
        mask[q * L + i] = 1;
      }
      weight[q] = l.weight ?? 1;
    });
    return { x, target, mask, weight };
  }
}

function ndcgAt10(scores: Float32Array, gains: readonly number[]): number {
  const order = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!);
  return ndcg(
    order.map((i) => gains[i]!),
    10,
    gains,
  );
}
