import { hitAt, mean, rankOf } from '../util/ranking-metrics.ts';
import type { Recommender } from './baselines.ts';
import type { Interaction } from './interactions.ts';

/** Held-out interactions with their sampled negatives: what settings are chosen on, never the test items. */
export interface ValidationSet {
  heldOut: readonly Interaction[];
  negatives: readonly number[][];
}

/** Validation HR@10: each held-out item against its sampled negatives. */
export function validationHr10(r: Recommender, validation: ValidationSet): number {
  return mean(
    validation.heldOut.map((x, k) => {
      const cands = [x.item, ...validation.negatives[k]!];
      return hitAt(rankOf(x.item, cands, r.score(x.user, cands)), 10);
    }),
  );
}

/**
 * A grid search chosen on the validation items only (never the test ones): fits one recommender
 * per setting, in the grid's order, and keeps the best by validation HR@10 (the first on ties).
 */
export async function chooseOnValidation<S>(
  grid: readonly S[],
  make: (settings: S) => Recommender,
  data: { train: readonly Interaction[]; numUsers: number; numItems: number; validation: ValidationSet },
  log: (line: string) => void = () => undefined,
): Promise<{ recommender: Recommender; settings: S; validationHr10: number; tried: Array<{ settings: S; validationHr10: number }> }> {
  let best: { recommender: Recommender; settings: S; validationHr10: number } | undefined;
  const tried: Array<{ settings: S; validationHr10: number }> = [];
  for (const settings of grid) {
    const r = make(settings);
    await r.fit(data.train, data.numUsers, data.numItems);
    const hr = validationHr10(r, data.validation);
    tried.push({ settings, validationHr10: Number(hr.toFixed(4)) });
    log(`  ${r.name} ${JSON.stringify(settings)}: validation HR@10 ${hr.toFixed(4)}`);
    if (!best || hr > best.validationHr10) best = { recommender: r, settings, validationHr10: hr };
  }
  if (!best) throw new Error('chooseOnValidation: an empty grid');
  return { ...best, tried };
}
