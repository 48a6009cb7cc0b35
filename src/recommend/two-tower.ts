import type * as TF from '@tensorflow/tfjs';
import { dot } from '../embed/embedder.ts';
import { tfRuntime } from '../embed/tf-runtime.ts';
import { hitAt, mean, rankOf } from '../util/ranking-metrics.ts';
import { ProgressBar } from '../util/progress.ts';
import { seededRandom } from '../util/random.ts';
import type { Recommender } from './baselines.ts';
import type { Interaction } from './interactions.ts';

/**
 * The hybrid recommender: a user tower and an item tower, each mapping to a `dims`-d vector, with
 * score = sigmoid(user · item). Collaborative signal comes from id embeddings, content signal from
 * feature vectors (an item's text embedding and categorical flags; a user's own features and the
 * mean content of their history). Id dropout during training (an id replaced by the "unknown"
 * index 0) makes the content path carry items and users that have no interactions yet.
 */
export interface TwoTowerOptions {
  /** Output dimension of both towers (64–128). @defaultValue 64 */
  dims?: number;
  /** Id embedding size. @defaultValue 32 */
  idDims?: number;
  /** @defaultValue 64 */
  hidden?: number;
  /** Sampled negatives per positive. @defaultValue 3 */
  negatives?: number;
  /** Probability an item id is hidden behind the unknown index in a training row. @defaultValue 0.25 */
  itemIdDropout?: number;
  /** @defaultValue 0.1 */
  userIdDropout?: number;
  /** @defaultValue 20 */
  maxEpochs?: number;
  /** Epochs without validation improvement before stopping. @defaultValue 3 */
  patience?: number;
  /** @defaultValue 1024 */
  batchSize?: number;
  /** @defaultValue 0.002 */
  learningRate?: number;
  /** L2 weight on the output vectors. @defaultValue 1e-4 */
  l2?: number;
  /** @defaultValue 42 */
  seed?: number;
  /** Progress bars on stderr. @defaultValue true */
  progress?: boolean;
}

export interface FeatureTables {
  /** Per item: its content vector (all the same length). */
  itemContent: Float32Array[];
  /** Per item: a categorical group (e.g. its merchant) as index + 1, 0 = unknown; learned as an embedding. */
  itemGroup?: Int32Array;
  /** Number of distinct groups (vocabulary size, without the unknown index). */
  itemGroups?: number;
  /** Per user: their feature vector. */
  userFeatures: Float32Array[];
}

export interface TrainingReport {
  epochs: number;
  bestEpoch: number;
  validationHr10: number[];
  loss: number[];
}

export interface Towers {
  user: TF.LayersModel;
  item: TF.LayersModel;
}

/** Builds the two towers (separate models, so each can be exported and loaded on its own). */
export function buildTowers(
  tf: typeof TF,
  spec: { numUsers: number; numItems: number; userFeatureDims: number; itemContentDims: number; itemGroups?: number },
  o: Required<TwoTowerOptions>,
): Towers {
  const dense = (units: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.dense({ units, activation, name, kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed }) });

  const userId = tf.input({ shape: [1], dtype: 'int32', name: 'user_id' });
  const userFeatures = tf.input({ shape: [spec.userFeatureDims], name: 'user_features' });
  const userHistory = tf.input({ shape: [spec.itemContentDims], name: 'user_history' });
  const uEmb = tf.layers.flatten().apply(
    tf.layers
      .embedding({
        inputDim: spec.numUsers + 1,
        outputDim: o.idDims,
        name: 'user_embedding',
        embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.05, seed: o.seed }),
      })
      .apply(userId),
  ) as TF.SymbolicTensor;
  const uConcat = tf.layers
    .concatenate()
    .apply([
      uEmb,
      dense(32, 'user_features_dense').apply(userFeatures) as TF.SymbolicTensor,
      dense(64, 'user_history_dense').apply(userHistory) as TF.SymbolicTensor,
    ]);
  const uOut = dense(o.dims, 'user_vector', 'linear').apply(dense(o.hidden, 'user_hidden').apply(uConcat)) as TF.SymbolicTensor;
  const user = tf.model({ inputs: [userId, userFeatures, userHistory], outputs: uOut, name: 'user_tower' });
  return { user, item: buildItemTower(tf, spec, o) };
}

/** The item tower alone: id embedding, content and an optional group embedding → a `dims`-d vector. */
export function buildItemTower(
  tf: typeof TF,
  spec: { numItems: number; itemContentDims: number; itemGroups?: number },
  o: Pick<Required<TwoTowerOptions>, 'dims' | 'idDims' | 'hidden' | 'seed'>,
): TF.LayersModel {
  const dense = (units: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.dense({ units, activation, name, kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed }) });
  const itemId = tf.input({ shape: [1], dtype: 'int32', name: 'item_id' });
  const itemContent = tf.input({ shape: [spec.itemContentDims], name: 'item_content' });
  const iEmb = tf.layers.flatten().apply(
    tf.layers
      .embedding({
        inputDim: spec.numItems + 1,
        outputDim: o.idDims,
        name: 'item_embedding',
        embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.05, seed: o.seed + 1 }),
      })
      .apply(itemId),
  ) as TF.SymbolicTensor;
  const itemInputs = [itemId, itemContent];
  const itemParts = [iEmb, dense(64, 'item_content_dense').apply(itemContent) as TF.SymbolicTensor];
  if (spec.itemGroups) {
    const itemGroup = tf.input({ shape: [1], dtype: 'int32', name: 'item_group' });
    itemInputs.push(itemGroup);
    itemParts.push(
      tf.layers.flatten().apply(
        tf.layers
          .embedding({
            inputDim: spec.itemGroups + 1,
            outputDim: 8,
            name: 'item_group_embedding',
            embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.05, seed: o.seed + 2 }),
          })
          .apply(itemGroup),
      ) as TF.SymbolicTensor,
    );
  }
  const iConcat = tf.layers.concatenate().apply(itemParts);
  const iOut = dense(o.dims, 'item_vector', 'linear').apply(dense(o.hidden, 'item_hidden').apply(iConcat)) as TF.SymbolicTensor;
  return tf.model({ inputs: itemInputs, outputs: iOut, name: 'item_tower' });
}

const DEFAULTS: Required<TwoTowerOptions> = {
  dims: 64,
  idDims: 32,
  hidden: 64,
  negatives: 3,
  itemIdDropout: 0.25,
  userIdDropout: 0.1,
  maxEpochs: 20,
  patience: 3,
  batchSize: 1024,
  learningRate: 0.002,
  l2: 1e-4,
  seed: 42,
  progress: true,
};

/**
 * Trains the towers on implicit feedback with sampled negatives and binary cross-entropy, early
 * stopping on validation HR@10 (99 sampled negatives), and keeps the best epoch's weights.
 */
export class TwoTowerRecommender implements Recommender {
  readonly name = 'hybrid';
  readonly options: Required<TwoTowerOptions>;
  towers: Towers | undefined;
  report: TrainingReport | undefined;
  private tf: typeof TF | undefined;
  private userVectors: Float32Array[] = [];
  private itemVectors: Float32Array[] = [];
  private trainedItems = new Set<number>();

  constructor(
    private readonly features: FeatureTables,
    private readonly validation: { heldOut: readonly Interaction[]; negatives: readonly number[][] } | undefined,
    options: TwoTowerOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    const tf = (this.tf = await tfRuntime());
    const o = this.options;
    const rand = seededRandom(o.seed);
    const contentDims = this.features.itemContent[0]!.length;
    const groups = this.features.itemGroups ?? 0;
    const towers = (this.towers = buildTowers(
      tf,
      { numUsers, numItems, userFeatureDims: this.features.userFeatures[0]!.length, itemContentDims: contentDims, itemGroups: groups },
      o,
    ));
    const groupOf = this.features.itemGroup;
    const optimizer = tf.train.adam(o.learningRate);
    const content = tf.tensor2d(concatRows(this.features.itemContent));
    const userFeat = tf.tensor2d(concatRows(this.features.userFeatures));
    const history = tf.tensor2d(concatRows(historyMeans(train, numUsers, this.features.itemContent)));
    const seen = Array.from({ length: numUsers }, () => new Set<number>());
    for (const x of train) {
      seen[x.user]!.add(x.item);
      this.trainedItems.add(x.item);
    }
    const trained = [...this.trainedItems];

    const report: TrainingReport = { epochs: 0, bestEpoch: -1, validationHr10: [], loss: [] };
    let best = -1;
    let bestWeights: TF.Tensor[] | undefined;
    const rowsPerEpoch = train.length * (1 + o.negatives);
    for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
      // Rows: (user, item, label); negatives are items the user has not interacted with.
      const users = new Int32Array(rowsPerEpoch),
        items = new Int32Array(rowsPerEpoch),
        labels = new Float32Array(rowsPerEpoch);
      let r = 0;
      for (const x of train) {
        users[r] = x.user;
        items[r] = x.item;
        labels[r++] = 1;
        for (let n = 0; n < o.negatives; n++) {
          let j = trained[Math.floor(rand() * trained.length)]!;
          while (seen[x.user]!.has(j)) j = trained[Math.floor(rand() * trained.length)]!;
          users[r] = x.user;
          items[r] = j;
          labels[r++] = 0;
        }
      }
      const order = Array.from({ length: rowsPerEpoch }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const bar = o.progress ? new ProgressBar(`hybrid epoch ${epoch + 1}`, rowsPerEpoch) : undefined;
      const losses: number[] = [];
      for (let start = 0; start < rowsPerEpoch; start += o.batchSize) {
        const idx = order.slice(start, start + o.batchSize);
        const u = Int32Array.from(idx, (k) => users[k]!),
          it = Int32Array.from(idx, (k) => items[k]!);
        // Id dropout: index 0 is "unknown", so the content features must carry the score.
        const uid = Int32Array.from(u, (x) => (rand() < o.userIdDropout ? 0 : x + 1));
        const iid = Int32Array.from(it, (x) => (rand() < o.itemIdDropout ? 0 : x + 1));
        const y = Float32Array.from(idx, (k) => labels[k]!);
        const loss = tf.tidy(() => {
          const uIdx = tf.tensor1d(u, 'int32'),
            iIdx = tf.tensor1d(it, 'int32');
          const userIn = [tf.tensor2d(uid, [uid.length, 1], 'int32'), tf.gather(userFeat, uIdx), tf.gather(history, uIdx)];
          const itemIn = [tf.tensor2d(iid, [iid.length, 1], 'int32'), tf.gather(content, iIdx)];
          if (groups)
            itemIn.push(
              tf.tensor2d(
                Int32Array.from(it, (x) => groupOf![x]!),
                [it.length, 1],
                'int32',
              ),
            );
          const target = tf.tensor1d(y);
          return optimizer.minimize(() => {
            const uv = towers.user.apply(userIn, { training: true }) as TF.Tensor2D;
            const iv = towers.item.apply(itemIn, { training: true }) as TF.Tensor2D;
            const logits = tf.sum(tf.mul(uv, iv), 1);
            const bce = tf.losses.sigmoidCrossEntropy(target, logits);
            // L2 on the batch's output vectors, as BPR regularises its factors.
            const norms = tf.add(tf.mean(tf.sum(tf.square(uv), 1)), tf.mean(tf.sum(tf.square(iv), 1)));
            return tf.add(bce, tf.mul(o.l2, norms)) as TF.Scalar;
          }, true)!;
        });
        losses.push((await loss.data())[0]!);
        loss.dispose();
        bar?.update(Math.min(rowsPerEpoch, start + o.batchSize));
      }
      report.loss.push(mean(losses));
      report.epochs = epoch + 1;
      await this.refreshVectors(numUsers, numItems, history, userFeat, content);
      if (!this.validation) continue;
      const hr = mean(
        this.validation.heldOut.map((x, k) => {
          const cands = [x.item, ...this.validation!.negatives[k]!];
          return hitAt(rankOf(x.item, cands, this.score(x.user, cands)), 10);
        }),
      );
      report.validationHr10.push(hr);
      if (o.progress) process.stderr.write(`  epoch ${epoch + 1}: loss ${report.loss.at(-1)!.toFixed(4)}, validation HR@10 ${hr.toFixed(4)}\n`);
      if (hr > best) {
        best = hr;
        report.bestEpoch = epoch;
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = [...towers.user.getWeights(), ...towers.item.getWeights()].map((w) => w.clone());
      } else if (epoch - report.bestEpoch >= o.patience) break;
    }
    if (bestWeights) {
      const n = towers.user.getWeights().length;
      towers.user.setWeights(bestWeights.slice(0, n));
      towers.item.setWeights(bestWeights.slice(n));
      bestWeights.forEach((w) => w.dispose());
      await this.refreshVectors(numUsers, numItems, history, userFeat, content);
    }
    this.report = report;
    content.dispose();
    userFeat.dispose();
    history.dispose();
  }

  /**
   * Reads `interactions` as the users' history from now on, pooled as serving pools it (the latest
   * positives weighted by recency, `recencyWeightedHistory`); the weights stay as trained.
   */
  async observe(interactions: readonly Interaction[]): Promise<void> {
    const tf = this.tf!;
    const numUsers = this.userVectors.length,
      numItems = this.itemVectors.length;
    const content = tf.tensor2d(concatRows(this.features.itemContent));
    const userFeat = tf.tensor2d(concatRows(this.features.userFeatures));
    const byUser: Interaction[][] = Array.from({ length: numUsers }, () => []);
    for (const x of interactions) byUser[x.user]!.push(x);
    const dims = this.features.itemContent[0]!.length;
    const pooled = byUser.map((xs) =>
      recencyWeightedHistory(
        xs.sort((a, b) => b.ts - a.ts || b.item - a.item).map((x) => this.features.itemContent[x.item]!),
        dims,
      ),
    );
    const history = tf.tensor2d(concatRows(pooled));
    await this.refreshVectors(numUsers, numItems, history, userFeat, content);
    content.dispose();
    userFeat.dispose();
    history.dispose();
  }

  score(user: number, items: readonly number[]): Float32Array {
    const u = this.userVectors[user]!;
    return Float32Array.from(items, (i) => 1 / (1 + Math.exp(-dot(u, this.itemVectors[i]!))));
  }

  /** Item vectors: an item never seen in training goes through the content path (id = unknown). */
  private async refreshVectors(numUsers: number, numItems: number, history: TF.Tensor2D, userFeat: TF.Tensor2D, content: TF.Tensor2D): Promise<void> {
    const tf = this.tf!;
    const towers = this.towers!;
    const itemIds = Int32Array.from({ length: numItems }, (_, i) => (this.trainedItems.has(i) ? i + 1 : 0));
    const userIds = Int32Array.from({ length: numUsers }, (_, u) => u + 1);
    const groups = this.features.itemGroups ? this.features.itemGroup! : undefined;
    const iv = tf.tidy(() => {
      const itemIn = [tf.tensor2d(itemIds, [numItems, 1], 'int32'), content];
      if (groups) itemIn.push(tf.tensor2d(groups, [numItems, 1], 'int32'));
      return towers.item.predict(itemIn, { batchSize: 4096 }) as TF.Tensor2D;
    });
    const uv = tf.tidy(() => towers.user.predict([tf.tensor2d(userIds, [numUsers, 1], 'int32'), userFeat, history], { batchSize: 4096 }) as TF.Tensor2D);
    this.itemVectors = rows((await iv.data()) as Float32Array, this.options.dims);
    this.userVectors = rows((await uv.data()) as Float32Array, this.options.dims);
    iv.dispose();
    uv.dispose();
  }
}

/** Positive interactions the served user tower reads: the most recent ones. */
export const SERVED_HISTORY = 10;
/** Interactions after which an earlier one weighs half as much in the served history. */
export const RECENCY_HALF_LIFE = 2;

/**
 * The history input as serving computes it: the content of the user's latest SERVED_HISTORY
 * positives (`newestFirst`), each weighing half as much as the one RECENCY_HALF_LIFE interactions
 * after it. Still a convex combination of coupon contents, as the tower saw in training, but one
 * that follows a shopper whose taste changes during a visit instead of the weeks before it.
 */
export function recencyWeightedHistory(newestFirst: readonly Float32Array[], dims: number): Float32Array {
  const rows = newestFirst.slice(0, SERVED_HISTORY);
  const out = new Float32Array(dims);
  const weights = rows.map((_, k) => 2 ** (-k / RECENCY_HALF_LIFE));
  const total = weights.reduce((a, b) => a + b, 0);
  rows.forEach((row, i) => {
    const w = weights[i]! / total;
    for (let k = 0; k < dims; k++) out[k] = out[k]! + row[k]! * w;
  });
  return out;
}

/** Mean content vector of each user's training items (zeros for a user with none). */
export function historyMeans(train: readonly Interaction[], numUsers: number, itemContent: readonly Float32Array[]): Float32Array[] {
  const dims = itemContent[0]!.length;
  const sums = Array.from({ length: numUsers }, () => new Float32Array(dims));
  const counts = new Int32Array(numUsers);
  for (const x of train) {
    const s = sums[x.user]!,
      c = itemContent[x.item]!;
    for (let k = 0; k < dims; k++) s[k] = s[k]! + c[k]!;
    counts[x.user]!++;
  }
  return sums.map((s, u) => (counts[u] ? s.map((x) => x / counts[u]!) : s));
}

function concatRows(rowsIn: readonly Float32Array[]): number[][] {
  return rowsIn.map((r) => Array.from(r));
}

function rows(flat: Float32Array, dims: number): Float32Array[] {
  return Array.from({ length: flat.length / dims }, (_, i) => flat.slice(i * dims, (i + 1) * dims));
}
