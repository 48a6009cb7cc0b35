import type { EventType } from '../domain/event.ts';
import type { ServedOutcome } from '../events/event-store.ts';
import { mean, ndcg } from '../util/ranking-metrics.ts';
import { hashString } from '../util/random.ts';
import { RANKING_FEATURES, RANKING_FEATURES_VERSION } from './features.ts';
import { estimatePropensities, type ClickedList } from './position-bias.ts';
import { LearnedRanker, type RankerOptions, type RankingList } from './ranker.ts';

/**
 * Training the ranker on the product's own logs: served lists (what was shown, where, with which
 * features) joined with what shoppers did. The label of a shown coupon is its strongest outcome
 * (redeem 3, save 2, click 1), divided by the propensity of the position it was shown at, so a
 * click at position 8 counts for what it says about relevance, not for the little attention
 * position 8 gets. Propensities are estimated from the same logs by EM (position-bias.ts); that
 * needs coupons seen at more than one position for the same query, which RANK_EXPLORATION
 * provides. Without enough of those the prior θ_k = 1/(k+1) is used, and the report says so.
 */
export const OUTCOME_GAIN: Partial<Record<EventType, number>> = { click: 1, save: 2, redeem: 3 };

export interface LogTrainingOptions {
  /** Share of lists held out (by query id hash) for early stopping and the report. @defaultValue 0.2 */
  validationShare?: number;
  /** Positions modelled; later ones share the last propensity. @defaultValue 20 */
  positions?: number;
  /** A list of pairs seen at two or more positions below this share falls back to the prior. @defaultValue 0.02 */
  minVaryingShare?: number;
  /** Largest inverse-propensity weight. @defaultValue 20 */
  maxWeight?: number;
  ranker?: RankerOptions;
}

export interface LogTrainingReport {
  lists_read: number;
  /** Lists skipped because they were logged with another feature schema or IDF source. */
  lists_skipped: Record<string, number>;
  lists_with_outcomes: number;
  outcomes: number;
  idf: string;
  propensities: { method: 'em' | 'prior'; values: number[]; varying_pair_share: number };
  train_lists: number;
  validation_lists: number;
  /** IPW-weighted NDCG@10 on held-out lists: the model's order against the order served. */
  validation: { model_ndcg10: number; served_ndcg10: number };
  queryless: boolean;
}

/** Keeps lists of the engine's feature schema and the dominant IDF source; counts the rest. */
export function usableLists(served: readonly ServedOutcome[]): { lists: ServedOutcome[]; idf: string; skipped: Record<string, number> } {
  const skipped: Record<string, number> = {};
  const skip = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
  const current = served.filter((l) => {
    const ok = l.featuresVersion === RANKING_FEATURES_VERSION && l.items.length > 0 && l.items.every((it) => it.features.length === RANKING_FEATURES.length);
    if (!ok) skip(`features v${l.featuresVersion}`);
    return ok;
  });
  const bySource = new Map<string, number>();
  for (const l of current) bySource.set(l.idf, (bySource.get(l.idf) ?? 0) + 1);
  const idf = [...bySource].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'uniform';
  const lists = current.filter((l) => {
    if (l.idf !== idf) skip(`idf ${l.idf}`);
    return l.idf === idf;
  });
  return { lists, idf, skipped };
}

/** A shown coupon's gain from what its shopper did: the best of click (1), save (2), redemption (3). */
export function outcomeGain(types: readonly EventType[] | undefined): number {
  return Math.max(0, ...(types ?? []).map((t) => OUTCOME_GAIN[t] ?? 0));
}

/** The list key propensity estimation groups by: the same request, shown again (a feed is per shopper). */
function requestKey(l: ServedOutcome): string {
  return `${l.surface}\u0000${l.query.toLowerCase().trim()}${l.surface === 'feed' ? `\u0000${l.userId ?? ''}` : ''}`;
}

export function estimateLogPropensities(
  lists: readonly ServedOutcome[],
  options: { positions?: number; minVaryingShare?: number } = {},
): LogTrainingReport['propensities'] {
  const K = options.positions ?? 20;
  const seen = new Map<string, Set<number>>();
  for (const l of lists)
    for (const it of l.items) {
      const key = `${requestKey(l)}\u0000${it.couponId}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(Math.min(it.position, K - 1)));
    }
  const varying = seen.size ? [...seen.values()].filter((s) => s.size > 1).length / seen.size : 0;
  const prior = Array.from({ length: K }, (_, k) => 1 / (k + 1));
  if (varying < (options.minVaryingShare ?? 0.02)) return { method: 'prior', values: prior, varying_pair_share: varying };
  const clicked: ClickedList[] = lists.map((l) => {
    const items: ClickedList['items'] = new Array(K);
    for (const it of l.items)
      if (it.position < K) items[it.position] = { id: it.couponId, features: new Float32Array(), clicked: outcomeGain(l.outcomes[it.couponId]) > 0 };
    // Positions before the page (offset > 0) are not observations of this list.
    return { query: requestKey(l), items: items.filter(Boolean) as ClickedList['items'] };
  });
  const { propensities } = estimatePropensities(
    clicked.filter((l) => l.items.length),
    { positions: K },
  );
  return { method: 'em', values: propensities.map((p, k) => Math.max(p, 1e-3) || prior[k]!), varying_pair_share: varying };
}

/** Training lists: per shown coupon, its outcome gain over its position's propensity. */
export function ipwLists(lists: readonly ServedOutcome[], propensities: readonly number[], maxWeight = 20): RankingList[] {
  const last = propensities.at(-1) ?? 1;
  return lists
    .filter((l) => l.items.some((it) => outcomeGain(l.outcomes[it.couponId]) > 0))
    .map((l) => ({
      features: l.items.map((it) => Float32Array.from(it.features)),
      gains: l.items.map((it) => {
        const g = outcomeGain(l.outcomes[it.couponId]);
        return g === 0 ? 0 : g * Math.min(maxWeight, 1 / (propensities[it.position] ?? last));
      }),
    }));
}

function inValidation(queryId: string, share: number): boolean {
  return hashString(queryId) / 2 ** 32 < share;
}

export async function trainFromLogs(
  served: readonly ServedOutcome[],
  options: LogTrainingOptions = {},
): Promise<{ ranker: LearnedRanker; report: LogTrainingReport }> {
  const { lists, idf, skipped } = usableLists(served);
  const withOutcomes = lists.filter((l) => l.items.some((it) => outcomeGain(l.outcomes[it.couponId]) > 0));
  if (withOutcomes.length < 10) {
    throw new Error(
      `only ${withOutcomes.length} served lists with a click, save or redemption (of ${served.length} read): need at least 10; send events with the query_id and position of the list they came from`,
    );
  }
  const propensities = estimateLogPropensities(lists, options);
  const share = options.validationShare ?? 0.2;
  const train = withOutcomes.filter((l) => !inValidation(l.queryId, share));
  const validation = withOutcomes.filter((l) => inValidation(l.queryId, share));
  const trainLists = ipwLists(train, propensities.values, options.maxWeight);
  const validationLists = ipwLists(validation.length ? validation : train, propensities.values, options.maxWeight);
  const ranker = new LearnedRanker({ listSize: Math.max(...lists.map((l) => l.items.length)), ...options.ranker });
  await ranker.fit(trainLists, validationLists);
  const servedOrder = (l: RankingList) => ndcg(l.gains, 10);
  const modelOrder = (l: RankingList) => {
    const scores = ranker.scoreSync(l.features);
    return ndcg(
      [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!).map((i) => l.gains[i]!),
      10,
      l.gains,
    );
  };
  return {
    ranker,
    report: {
      lists_read: served.length,
      lists_skipped: skipped,
      lists_with_outcomes: withOutcomes.length,
      outcomes: withOutcomes.reduce((n, l) => n + Object.keys(l.outcomes).length, 0),
      idf,
      propensities: { ...propensities, values: propensities.values.map((p) => Math.round(p * 1e4) / 1e4) },
      train_lists: trainLists.length,
      validation_lists: validationLists.length,
      validation: { model_ndcg10: mean(validationLists.map(modelOrder)), served_ndcg10: mean(validationLists.map(servedOrder)) },
      queryless: lists.some((l) => l.surface !== 'search'),
    },
  };
}
