import { seededRandom } from '../util/random.ts';
import type { Interaction } from './interactions.ts';

/** What every system in the recommender evaluation implements: scores for (user, items). */
export interface Recommender {
  readonly name: string;
  fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void>;
  /** Higher is better; one score per item. */
  score(user: number, items: readonly number[]): Float32Array;
  /**
   * Models that read a history at scoring time: take `interactions` as it, keeping the trained
   * weights (the evaluation gives them train + validation before the test item).
   */
  observe?(interactions: readonly Interaction[]): Promise<void>;
}

/** Most interacted items first: the baseline every recommender must clear. */
export class PopularityRecommender implements Recommender {
  readonly name = 'popularity';
  private counts = new Float32Array();

  async fit(train: readonly Interaction[], _numUsers: number, numItems: number): Promise<void> {
    this.counts = new Float32Array(numItems);
    for (const x of train) this.counts[x.item]!++;
  }

  score(_user: number, items: readonly number[]): Float32Array {
    return Float32Array.from(items, (i) => this.counts[i]!);
  }

  /** Interactions per item in training (used by cold-start fallbacks too). */
  countOf(item: number): number {
    return this.counts[item] ?? 0;
  }
}

/**
 * Item-based kNN (Sarwar et al. 2001): cosine similarity between items' user vectors, a user's
 * score for an item is the summed similarity to the items in their history (top `neighbours` kept).
 */
export class ItemKnnRecommender implements Recommender {
  readonly name = 'item_knn';
  private sims: Float32Array[] = [];
  private history: number[][] = [];

  constructor(private readonly neighbours = 100) {}

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    const usersOf: number[][] = Array.from({ length: numItems }, () => []);
    this.history = Array.from({ length: numUsers }, () => []);
    for (const x of train) {
      usersOf[x.item]!.push(x.user);
      this.history[x.user]!.push(x.item);
    }
    // Co-occurrence counts through each user's history, then cosine normalisation.
    const co = Array.from({ length: numItems }, () => new Float32Array(numItems));
    for (const items of this.history) {
      for (const a of items) for (const b of items) if (a !== b) co[a]![b]!++;
    }
    const norm = usersOf.map((u) => Math.sqrt(u.length));
    this.sims = co.map((row, a) => {
      const sims = row.map((c, b) => (c > 0 ? c / (norm[a]! * norm[b]!) : 0));
      if (this.neighbours < numItems) {
        const cutoff = [...sims].sort((x, y) => y - x)[this.neighbours - 1] ?? 0;
        for (let b = 0; b < sims.length; b++) if (sims[b]! < cutoff) sims[b] = 0;
      }
      return sims;
    });
  }

  score(user: number, items: readonly number[]): Float32Array {
    const history = this.history[user] ?? [];
    return Float32Array.from(items, (i) => {
      let s = 0;
      for (const j of history) s += this.sims[j]![i]!;
      return s;
    });
  }
}

export interface BprOptions {
  /** @defaultValue 64 */
  dims?: number;
  /** @defaultValue 40 */
  epochs?: number;
  /** @defaultValue 0.05 */
  learningRate?: number;
  /** @defaultValue 0.001 */
  regularization?: number;
  /** @defaultValue 7 */
  seed?: number;
}

/**
 * BPR-MF (Rendle et al. 2009): matrix factorisation trained by SGD on (user, positive, sampled
 * negative) triples to rank the positive higher. Plain typed arrays; a few seconds on ML-100K.
 */
export class BprMfRecommender implements Recommender {
  readonly name = 'bpr_mf';
  private users = new Float32Array();
  private items = new Float32Array();
  private bias = new Float32Array();
  private d = 0;

  constructor(private readonly options: BprOptions = {}) {}

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    const d = (this.d = this.options.dims ?? 64);
    const lr = this.options.learningRate ?? 0.05;
    const reg = this.options.regularization ?? 0.001;
    const rand = seededRandom(this.options.seed ?? 7);
    const init = () => (rand() - 0.5) * 0.1;
    this.users = Float32Array.from({ length: numUsers * d }, init);
    this.items = Float32Array.from({ length: numItems * d }, init);
    this.bias = new Float32Array(numItems);
    const seen = Array.from({ length: numUsers }, () => new Set<number>());
    for (const x of train) seen[x.user]!.add(x.item);
    const u = this.users,
      v = this.items,
      b = this.bias;
    for (let epoch = 0; epoch < (this.options.epochs ?? 40); epoch++) {
      for (let n = 0; n < train.length; n++) {
        const x = train[Math.floor(rand() * train.length)]!;
        let j = Math.floor(rand() * numItems);
        while (seen[x.user]!.has(j)) j = Math.floor(rand() * numItems);
        const uo = x.user * d,
          io = x.item * d,
          jo = j * d;
        let diff = b[x.item]! - b[j]!;
        for (let k = 0; k < d; k++) diff += u[uo + k]! * (v[io + k]! - v[jo + k]!);
        const g = 1 / (1 + Math.exp(diff)); // d/dx of ln σ(x)
        b[x.item] = b[x.item]! + lr * (g - reg * b[x.item]!);
        b[j] = b[j]! + lr * (-g - reg * b[j]!);
        for (let k = 0; k < d; k++) {
          const uk = u[uo + k]!,
            ik = v[io + k]!,
            jk = v[jo + k]!;
          u[uo + k] = uk + lr * (g * (ik - jk) - reg * uk);
          v[io + k] = ik + lr * (g * uk - reg * ik);
          v[jo + k] = jk + lr * (-g * uk - reg * jk);
        }
      }
    }
  }

  score(user: number, items: readonly number[]): Float32Array {
    const d = this.d,
      uo = user * d;
    return Float32Array.from(items, (i) => {
      let s = this.bias[i]!;
      for (let k = 0; k < d; k++) s += this.users[uo + k]! * this.items[i * d + k]!;
      return s;
    });
  }
}
