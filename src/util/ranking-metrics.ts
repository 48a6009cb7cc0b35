import { hashString } from './random.ts';
/**
 * Ranking metrics shared by every evaluation (recommender, ranker, search). Ranks are 0-based.
 */

/** 1 when the single relevant item is ranked in the top k. */
export function hitAt(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** NDCG@k with one relevant item: 1 / log2(rank + 2) inside the top k. */
export function ndcgAtSingle(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** DCG@k of graded gains in ranked order (exponential-free form: Σ gain / log2(i + 2)). */
export function dcg(gains: readonly number[], k: number): number {
  let s = 0;
  for (let i = 0; i < Math.min(k, gains.length); i++) s += gains[i]! / Math.log2(i + 2);
  return s;
}

/** NDCG@k of a ranked list of gains, against the ideal order of `allGains` (defaults to the same list). */
export function ndcg(rankedGains: readonly number[], k: number, allGains: readonly number[] = rankedGains): number {
  const ideal = dcg(
    [...allGains].sort((a, b) => b - a),
    k,
  );
  return ideal > 0 ? dcg(rankedGains, k) / ideal : 0;
}

/** Fraction of the relevant ids found in the top k of `ranked`. */
export function recallAt(ranked: readonly string[] | readonly number[], relevant: ReadonlySet<string | number>, k: number): number {
  if (relevant.size === 0) return 0;
  let found = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (relevant.has(ranked[i]!)) found++;
  return found / relevant.size;
}

/**
 * Rank of `target` among `candidates` by `scores` (higher first). Ties are broken by a hash of the
 * id, never by list order: list order can leak the label.
 */
export function rankOf(target: number, candidates: readonly number[], scores: ArrayLike<number>): number {
  const t = candidates.indexOf(target);
  const ts = scores[t]!;
  const th = tieHash(target);
  let rank = 0;
  for (let i = 0; i < candidates.length; i++) {
    if (i === t) continue;
    const s = scores[i]!;
    if (s > ts || (s === ts && tieHash(candidates[i]!) > th)) rank++;
  }
  return rank;
}

export function tieHash(id: number | string): number {
  return hashString(String(id));
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
