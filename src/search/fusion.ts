/**
 * How the retrievers' lists become one order. Pure functions over each candidate's per-list
 * {rank, score}, shared by the pipeline's `fuse` stage and by `eval:ranking`, so the evaluation
 * scores exactly what the engine serves.
 *
 * - `rrf`: weighted reciprocal rank fusion (Cormack et al. 2009), Σ w / (k + rank). Needs no common
 *   scale, but ignores how far apart scores are: a near-useless list moves the order as much as a good one.
 * - `convex`: a convex combination of normalised scores, Σ w · (s − min) / (max − min) per list
 *   (min 0 with `normalization: 'max'`) (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid Retrieval", find it
 *   beats RRF once the weight is tuned). A candidate missing from a list gets 0 for it.
 */
import type { TitleMatch } from '../text/title-match.ts';

export const FUSED_LISTS = ['dense', 'lexical', 'paraphrase', 'behavior', 'popularity'] as const;
export type FusedList = (typeof FUSED_LISTS)[number];

export interface FusionSettings {
  method: 'rrf' | 'convex';
  /**
   * How `convex` puts scores on one scale: `minmax` maps each list's [min, max] to [0, 1]; `max`
   * divides by the list's maximum (a theoretical minimum of 0: BM25 ≥ 0, cosines of related
   * texts ≥ 0), which keeps small cosine gaps small. @defaultValue 'minmax'
   */
  normalization?: 'minmax' | 'max';
  /** The RRF constant. @defaultValue 60 */
  rrfK: number;
  /** Each list's weight (both methods). */
  weights: Record<FusedList, number>;
  /**
   * Added for how completely the title contains the query (`text/title-match.ts`): the share of
   * query terms and of query bigrams. BM25 sums per-term scores, so a title with one rare query
   * term can outscore one with all of them; these put whole matches first. 0 without query text.
   */
  matchBoost: { terms: number; bigrams: number };
}

export type ListScores = Partial<Record<FusedList, { rank: number; score: number }>>;

/** One fused score per candidate, in order; `matches[i]` is candidate i's title match, when there is query text. */
export function fusedScores(candidates: readonly ListScores[], settings: FusionSettings, matches?: readonly TitleMatch[]): number[] {
  const fused = fuseLists(candidates, settings);
  if (!matches) return fused;
  const { terms, bigrams } = settings.matchBoost;
  return fused.map((s, i) => s + terms * matches[i]!.termCoverage + bigrams * matches[i]!.bigramCoverage);
}

function fuseLists(candidates: readonly ListScores[], settings: FusionSettings): number[] {
  if (settings.method === 'rrf') {
    return candidates.map((c) =>
      FUSED_LISTS.reduce((sum, list) => {
        const hit = c[list];
        return hit ? sum + settings.weights[list] / (settings.rrfK + hit.rank) : sum;
      }, 0),
    );
  }
  const ranges = FUSED_LISTS.map((list) => {
    let min = Infinity;
    let max = -Infinity;
    for (const c of candidates) {
      const s = c[list]?.score;
      if (s === undefined || !Number.isFinite(s)) continue;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    if (settings.normalization === 'max') return { list, min: 0, span: Math.max(0, max) };
    return { list, min, span: max - min };
  });
  return candidates.map((c) =>
    ranges.reduce((sum, { list, min, span }) => {
      const s = c[list]?.score;
      if (s === undefined || !Number.isFinite(s)) return sum;
      // A list whose scores are all equal says "these matched" and nothing more: full credit each.
      return sum + settings.weights[list] * (span > 0 ? Math.max(0, s - min) / span : 1);
    }, 0),
  );
}

export function describeFusion(settings: FusionSettings): string {
  const weights = FUSED_LISTS.filter((l) => settings.weights[l] !== 1)
    .map((l) => `${l} ${settings.weights[l]}`)
    .join(', ');
  const method =
    settings.method === 'rrf' ? `RRF (k=${settings.rrfK})` : `convex combination of ${settings.normalization === 'max' ? 'max' : 'min-max'}-normalised scores`;
  const { terms, bigrams } = settings.matchBoost;
  const boost = terms || bigrams ? ` + title match (terms ${terms}, bigrams ${bigrams})` : '';
  return `${method}${weights ? `, weights ${weights}` : ''}${boost}`;
}
