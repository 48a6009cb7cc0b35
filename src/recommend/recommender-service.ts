import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import type { Coupon } from '../domain/coupon.ts';
import { tfRuntime } from '../embed/tf-runtime.ts';
import type { UserAffinity } from '../events/event-store.ts';
import { BEHAVIOR_DIMS, type VectorStore } from '../store/vector-store.ts';
import { MicroBatcher } from '../util/micro-batcher.ts';
import { loadRecommender, type RecommenderMetadata, type Vocab } from './artifacts.ts';
import { couponFeatureDims, couponFeatures, type CouponFeatureSchema } from './coupon-features.ts';
import { historySteps } from './sequence-recommender.ts';
import { contextDims, encodeWindow } from './sequence-tower.ts';
import { recencyWeightedHistory, SERVED_HISTORY } from './two-tower.ts';

export interface CouponWithText {
  coupon: Coupon;
  /** The coupon's text embedding (the store's `vector`). */
  vector: Float32Array;
}

/** What a user tower reads of a user: their recent positives, as the event store keeps them. */
export type UserHistory = Pick<UserAffinity, 'userId' | 'recent' | 'recentEvents'>;

/**
 * The trained coupon recommender at serving time: coupon vectors from the item tower (a coupon
 * the model never saw goes through its content alone) and user vectors from the user tower. The
 * hybrid's user tower reads the user's recent positive coupons pooled by recency; the sequence
 * model's reads their latest positive events in order, with their kinds and the gaps between
 * them. Both live in the store's behaviour space.
 */
export class RecommenderService {
  private readonly itemIndex: Map<string, number>;
  private readonly userIndex: Map<string, number>;
  private readonly merchantIndex: Map<string, number> | undefined;
  private readonly schema: CouponFeatureSchema;
  private readonly batcher: MicroBatcher<CouponWithText, Float32Array>;

  private constructor(
    private readonly tf: typeof TF,
    private readonly user: TF.LayersModel,
    private readonly item: TF.LayersModel,
    readonly metadata: RecommenderMetadata,
    vocab: Vocab,
  ) {
    this.itemIndex = new Map(vocab.items.map((id, i) => [id, i + 1]));
    this.userIndex = new Map(vocab.users.map((id, i) => [id, i + 1]));
    this.merchantIndex = vocab.merchants && item.inputs.length > 2 ? new Map(vocab.merchants.map((id, i) => [id, i + 1])) : undefined;
    this.schema = (metadata.features.item_content as { schema: CouponFeatureSchema }).schema;
    this.batcher = new MicroBatcher({ run: (docs) => this.computeCouponVectors(docs), maxBatch: 256, maxWaitMs: 5 });
  }

  /**
   * Loads the model in `dir` for coupons whose text vectors come from `text` (the running
   * embedder). Returns why not instead when there is no model, or when it was trained on another
   * embedder's vectors: its item tower would read a text space it never saw, and every coupon's
   * behaviour vector would be quietly wrong (callers fall back to popularity and say why).
   */
  static async load(dir: string, text: { embedderId: string; dims: number }): Promise<RecommenderService | { unusable: string }> {
    if (!existsSync(path.join(dir, 'metadata.json'))) return { unusable: 'no recommender model (npm run train:recommender)' };
    const tf = await tfRuntime();
    const { user, item, metadata, vocab } = await loadRecommender(dir);
    if (metadata.dims !== BEHAVIOR_DIMS) throw new Error(`${dir}: model dims ${metadata.dims} ≠ the stores' behaviour dims ${BEHAVIOR_DIMS}`);
    if (!vocab) throw new Error(`${dir}: vocab.json is missing`);
    if (metadata.name === 'sequence' && !metadata.window) throw new Error(`${dir}: a sequence model's metadata.json needs its window`);
    const content = metadata.features.item_content as { schema: CouponFeatureSchema; embedder?: string };
    const trainedOn = content.embedder ?? `an unrecorded embedder with ${content.schema.textDims}-d vectors`;
    if (content.schema.textDims !== text.dims || (content.embedder !== undefined && content.embedder !== text.embedderId))
      return {
        unusable: `the recommender was trained on ${trainedOn}, the running embedder is ${text.embedderId} (${text.dims}-d): retrain it (npm run train:recommender)`,
      };
    return new RecommenderService(tf, user, item, metadata, vocab);
  }

  get version(): string {
    return this.metadata.version;
  }

  /** `two-tower` (the hybrid) or `sequence`: which user tower serves. */
  get kind(): 'two-tower' | 'sequence' {
    return this.metadata.name === 'sequence' ? 'sequence' : 'two-tower';
  }

  /** Item-tower vectors, batched across concurrent callers (indexing jobs). */
  couponVectors(docs: CouponWithText[]): Promise<Float32Array[]> {
    return this.batcher.submit(docs);
  }

  /** The user tower on the user's recent positive coupons (newest first, pooled by `recencyWeightedHistory`); a stranger gets index 0. */
  private async userVector(userId: string, recent: readonly CouponWithText[]): Promise<Float32Array> {
    const tf = this.tf;
    const history = recencyWeightedHistory(
      recent.map((d) => couponFeatures(this.schema, d.coupon, d.vector)),
      couponFeatureDims(this.schema),
    );
    const out = tf.tidy(
      () =>
        this.user.execute(
          [tf.tensor2d([[this.userIndex.get(userId) ?? 0]], [1, 1], 'int32'), tf.tensor2d([[1]]), tf.tensor2d([Array.from(history)])],
          this.user.outputs[0]!.name,
        ) as TF.Tensor,
    );
    const v = (await out.data()) as Float32Array;
    out.dispose();
    return Float32Array.from(v);
  }

  /** The user's vector from their recent positives whose coupons are stored; undefined when there are none. */
  userVectorFor(history: UserHistory, store: VectorStore): Promise<Float32Array | undefined> {
    return this.metadata.name === 'sequence' ? this.sequenceUserVector(history, store) : this.userVectorFromRecent(history.userId, history.recent, store);
  }

  /** The hybrid: the user's most recent positive coupons (at most SERVED_HISTORY) as stored. */
  private async userVectorFromRecent(userId: string, recentCouponIds: readonly string[], store: VectorStore): Promise<Float32Array | undefined> {
    const found = await store.get(recentCouponIds.slice(0, SERVED_HISTORY), { withVectors: true });
    const history = recentCouponIds
      .map((id) => found.get(id))
      .filter((d) => d?.vector)
      .map((d) => ({ coupon: d!.coupon, vector: d!.vector! }));
    return history.length ? this.userVector(userId, history) : undefined;
  }

  /**
   * The sequence model: the item tower's vectors of the user's latest positive events (at most
   * the model's window, oldest first, events of coupons no longer stored left out), with each
   * event's kind and the time since the one before it, as the tower was trained.
   */
  private async sequenceUserVector(history: UserHistory, store: VectorStore): Promise<Float32Array | undefined> {
    const tf = this.tf;
    const n = this.metadata.window!;
    const newestFirst = history.recentEvents.slice(0, n);
    const found = await store.get([...new Set(newestFirst.map((e) => e.couponId))], { withVectors: true });
    const events = newestFirst.filter((e) => found.get(e.couponId)?.vector).reverse();
    if (!events.length) return undefined;
    // Through this model's item tower, not the stored behaviour vectors: those are from whichever
    // model indexed the coupon, until a reindex.
    const ids = [...new Set(events.map((e) => e.couponId))];
    const vectors = await this.computeCouponVectors(ids.map((id) => ({ coupon: found.get(id)!.coupon, vector: found.get(id)!.vector! })));
    const vectorOf = new Map(ids.map((id, k) => [id, vectors[k]!]));
    const c = contextDims(n);
    const steps = new Float32Array(n * BEHAVIOR_DIMS),
      context = new Float32Array(n * c),
      mask = new Float32Array(n * n);
    encodeWindow(historySteps(events.map((e) => ({ ts: Date.parse(e.ts), kind: e.type }))), n, context, mask);
    // Right-aligned: the latest event at the last position.
    events.forEach((e, k) => steps.set(vectorOf.get(e.couponId)!, (n - events.length + k) * BEHAVIOR_DIMS));
    const out = tf.tidy(
      () =>
        this.user.predict([
          tf.tensor3d(steps, [1, n, BEHAVIOR_DIMS]),
          tf.tensor3d(context, [1, n, c]),
          tf.tensor3d(mask, [1, n, n]),
          // Training gives every user the same bias feature(s) of 1: the shop knows users by what they do.
          tf.ones([1, n, this.user.inputs[3]!.shape[2]!]),
        ]) as TF.Tensor,
    );
    const v = (await out.data()) as Float32Array;
    out.dispose();
    return Float32Array.from(v);
  }

  private async computeCouponVectors(docs: CouponWithText[]): Promise<Float32Array[]> {
    const tf = this.tf;
    const ids = Int32Array.from(docs, (d) => this.itemIndex.get(d.coupon.id) ?? 0);
    // One flat block, not nested arrays of numbers: indexing sends every coupon through here.
    const width = couponFeatureDims(this.schema);
    const content = new Float32Array(docs.length * width);
    docs.forEach((d, i) => content.set(couponFeatures(this.schema, d.coupon, d.vector), i * width));
    const merchants = this.merchantIndex;
    const out = tf.tidy(() => {
      const inputs = [tf.tensor2d(ids, [docs.length, 1], 'int32'), tf.tensor2d(content, [docs.length, width])];
      if (merchants)
        inputs.push(
          tf.tensor2d(
            Int32Array.from(docs, (d) => merchants.get(d.coupon.merchant.id) ?? 0),
            [docs.length, 1],
            'int32',
          ),
        );
      return this.item.predict(inputs) as TF.Tensor;
    });
    const flat = (await out.data()) as Float32Array;
    out.dispose();
    return docs.map((_, i) => flat.slice(i * BEHAVIOR_DIMS, (i + 1) * BEHAVIOR_DIMS));
  }
}
