import { mean, rankOf } from '../util/ranking-metrics.ts';
import type { Recommender } from './baselines.ts';
import { meanAndDeviation } from './features.ts';
import type { Interaction } from './interactions.ts';
import { type ValidationSet, validationHr10 } from './tuning.ts';

export interface ColdStartPriorChoice {
  weight: number;
  /** The spread of the model's scores the weight is measured in (mean per-user standard deviation). */
  spread: number;
  tried: Array<{ weight: number; validationMrr: number; validationHr10: number }>;
}

/**
 * A history-reading recommender whose items without interactions also get a prior: `weight` × the
 * model's score spread × `prior[item]` (a standardised estimate such as `neighbourPopularity`).
 * A model scores a cold item through its content alone, which says what the item is but little
 * about how many shoppers will want it; the prior supplies that, and items with interactions keep
 * the model's scores untouched. The weight is chosen on cold validation items (hidden from training
 * like the cold test items, never those), by the mean reciprocal rank of each against the other cold
 * validation items: every rank counts, where HR@10 only sees the top 10 and, over a few hundred
 * users, moves by more between neighbouring weights than the weights themselves change it.
 */
export class WithColdStartPrior implements Recommender {
  readonly name: string;
  chosen: ColdStartPriorChoice | undefined;
  private weight = 0;
  private spread = 1;
  private trained = new Uint8Array();

  constructor(
    private readonly inner: Recommender & Required<Pick<Recommender, 'observe'>>,
    private readonly prior: Float32Array,
    private readonly coldValidation: ValidationSet,
    private readonly weights: readonly number[] = [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4],
  ) {
    this.name = inner.name;
  }

  async fit(train: readonly Interaction[], numUsers: number, numItems: number): Promise<void> {
    await this.inner.fit(train, numUsers, numItems);
    this.trained = new Uint8Array(numItems);
    for (const x of train) this.trained[x.item] = 1;
    const items = Array.from({ length: numItems }, (_, i) => i);
    this.spread = mean(Array.from({ length: numUsers }, (_, u) => meanAndDeviation(this.inner.score(u, items)).sd)) || 1;
    const tried: ColdStartPriorChoice['tried'] = [];
    let best = { weight: 0, mrr: -1 };
    for (const weight of this.weights) {
      this.weight = weight;
      const mrr = meanReciprocalRank(this, this.coldValidation);
      tried.push({ weight, validationMrr: Number(mrr.toFixed(4)), validationHr10: Number(validationHr10(this, this.coldValidation).toFixed(4)) });
      if (mrr > best.mrr) best = { weight, mrr };
    }
    this.weight = best.weight;
    this.chosen = { weight: best.weight, spread: Number(this.spread.toFixed(4)), tried };
  }

  observe(interactions: readonly Interaction[]): Promise<void> {
    return this.inner.observe(interactions);
  }

  score(user: number, items: readonly number[]): Float32Array {
    const scores = this.inner.score(user, items);
    const scale = this.weight * this.spread;
    if (scale)
      items.forEach((item, k) => {
        if (!this.trained[item]) scores[k]! += scale * this.prior[item]!;
      });
    return scores;
  }
}

function meanReciprocalRank(r: Recommender, validation: ValidationSet): number {
  return mean(
    validation.heldOut.map((x, k) => {
      const cands = [x.item, ...validation.negatives[k]!];
      return 1 / (1 + rankOf(x.item, cands, r.score(x.user, cands)));
    }),
  );
}
