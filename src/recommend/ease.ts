import type { Recommender } from './baselines.ts';
import type { Interaction } from './interactions.ts';
import { type ValidationSet, validationHr10 } from './tuning.ts';

export interface EaseOptions {
  /** L2 strengths tried; the one with the best validation HR@10 is kept. @defaultValue [100, 250, 500, 1000] */
  lambdas?: readonly number[];
  /**
   * Weigh each history item by its recency (`floor + (1 − floor)·decay^age`, age 0 the latest):
   * settings tried on validation as for λ. Off: every history item weighs 1 (plain EASE).
   */
  recency?: { decays: readonly number[]; floors: readonly number[] } | undefined;
}

/**
 * EASE (Steck, WWW 2019): a closed-form item-item model, B = −P / diag(P) with P = (XᵀX + λI)⁻¹
 * and a zero diagonal; a user's score for an item sums B over their history. With `recency`, the
 * history is weighted towards what the user did last: the simplest sequence-aware variant.
 */
export class EaseRecommender implements Recommender {
  readonly name: string;
  /** What validation chose, for the report. */
  chosen: { lambda: number; decay?: number; floor?: number; validationHr10: number } | undefined;
  private b: Float64Array = new Float64Array();
  private n = 0;
  private history: number[][] = [];

  constructor(
    private readonly validation: ValidationSet,
    private readonly options: EaseOptions = {},
  ) {
    this.name = options.recency ? 'ease_recent' : 'ease';
  }

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    this.n = numItems;
    const byUser: Interaction[][] = Array.from({ length: numUsers }, () => []);
    for (const x of train) byUser[x.user]!.push(x);
    // Oldest first, so the last item is the latest; one entry per item.
    this.history = byUser.map((xs) => [...new Map(xs.sort((a, b) => a.ts - b.ts).map((x) => [x.item, x.item])).values()]);
    const gram = new Float64Array(numItems * numItems);
    for (const items of this.history) for (const a of items) for (const b of items) gram[a * numItems + b]!++;
    let best: { b: Float64Array; chosen: NonNullable<EaseRecommender['chosen']> } | undefined;
    for (const lambda of this.options.lambdas ?? [100, 250, 500, 1000]) {
      const b = easeWeights(gram, numItems, lambda);
      this.b = b;
      const settings = this.options.recency
        ? this.options.recency.decays.flatMap((decay) => this.options.recency!.floors.map((floor) => ({ decay, floor })))
        : [{ decay: 1, floor: 1 }];
      for (const s of settings) {
        const hr = this.validationHr(s.decay, s.floor);
        if (!best || hr > best.chosen.validationHr10) best = { b, chosen: { lambda, ...(this.options.recency && s), validationHr10: hr } };
      }
    }
    this.b = best!.b;
    this.chosen = best!.chosen;
  }

  score(user: number, items: readonly number[]): Float32Array {
    return this.scoreWith(user, items, this.chosen?.decay ?? 1, this.chosen?.floor ?? 1);
  }

  private scoreWith(user: number, items: readonly number[], decay: number, floor: number): Float32Array {
    const history = this.history[user] ?? [];
    const out = new Float32Array(items.length);
    for (let k = 0; k < history.length; k++) {
      const age = history.length - 1 - k;
      const w = floor + (1 - floor) * decay ** age;
      const row = history[k]! * this.n;
      for (let i = 0; i < items.length; i++) out[i]! += w * this.b[row + items[i]!]!;
    }
    return out;
  }

  private validationHr(decay: number, floor: number): number {
    return validationHr10({ name: this.name, fit: async () => undefined, score: (u, items) => this.scoreWith(u, items, decay, floor) }, this.validation);
  }
}

/** B = −P / diag(P), P = (G + λI)⁻¹, zero diagonal; G symmetric positive semi-definite (n × n, row-major). */
export function easeWeights(gram: Float64Array, n: number, lambda: number): Float64Array {
  const p = Float64Array.from(gram);
  for (let i = 0; i < n; i++) p[i * n + i]! += lambda;
  invertSpdInPlace(p, n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j]! / p[j * n + j]!;
  return b;
}

/** Inverts a symmetric positive definite matrix in place (Gauss–Jordan without pivoting, which SPD matrices do not need). */
function invertSpdInPlace(a: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) {
    const pivot = a[k * n + k]!;
    if (!(pivot > 0)) throw new Error('EASE: the regularised Gram matrix is not positive definite');
    const inv = 1 / pivot;
    const rowK = k * n;
    for (let j = 0; j < n; j++) a[rowK + j]! *= inv;
    a[rowK + k] = inv;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const rowI = i * n;
      const f = a[rowI + k]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) a[rowI + j]! -= f * a[rowK + j]!;
      a[rowI + k] = -f * inv;
    }
  }
}
