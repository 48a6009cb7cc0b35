import type { Coupon } from '../domain/coupon.ts';
import { nearestDistanceKm } from '../domain/geo.ts';
import { discountPhrase } from '../text/coupon-text.ts';
import type { Candidate, SearchContext } from './context.ts';

export interface SearchResult {
  id: string;
  score: number;
  coupon: Coupon;
  /** "50% off", "$10 off", "buy one get one free"… */
  discount_label: string;
  /** To the nearest store, when the request had a location and the coupon has stores. */
  distance_km?: number;
  explain?: CandidateExplanation;
}

export interface CandidateExplanation {
  dense?: { rank: number; score: number };
  lexical?: { rank: number; score: number };
  behavior?: { rank: number; score: number };
  popularity?: { rank: number; score: number };
  fused?: { rank: number; score: number };
  rank?: { scorer: string; score: number; features?: Record<string, number> };
  diversify?: { position: number; mmr: number | null; max_similarity: number; demoted: boolean };
}

export interface SearchResponse {
  /** Names this served list: send it, with the position, on impression, click and redeem events. */
  query_id: string;
  total: number;
  limit: number;
  offset: number;
  results: SearchResult[];
  explain?: { stages: Record<string, { ms: number; note: string }> };
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A feature row as `{ name: value }`, four decimals. */
function named(names: readonly string[], row: Float32Array): Record<string, number> {
  return Object.fromEntries(names.map((name, i) => [name, round(row[i]!)]));
}

function explainCandidate(c: Candidate, names: readonly string[]): CandidateExplanation {
  return {
    ...(c.dense && { dense: { rank: c.dense.rank, score: round(c.dense.score) } }),
    ...(c.lexical && { lexical: { rank: c.lexical.rank, score: round(c.lexical.score) } }),
    ...(c.behavior && { behavior: { rank: c.behavior.rank, score: round(c.behavior.score) } }),
    ...(c.popularity && { popularity: { rank: c.popularity.rank, score: round(c.popularity.score) } }),
    ...(c.fused && { fused: { rank: c.fused.rank, score: round(c.fused.score, 6) } }),
    ...(c.ranked && { rank: { scorer: c.ranked.scorer, score: round(c.ranked.score, 6), features: named(names, c.ranked.features) } }),
    ...(c.diversified && {
      diversify: {
        position: c.diversified.position,
        mmr: Number.isNaN(c.diversified.mmr) ? null : round(c.diversified.mmr),
        max_similarity: round(c.diversified.maxSimilarity),
        demoted: c.diversified.demoted,
      },
    }),
  };
}

/** The wire shape of a finished pipeline run. */
export function toResponse(ctx: SearchContext): SearchResponse {
  const { origin, explain, limit, offset } = ctx.request;
  const results = ctx.candidates.map((c): SearchResult => {
    const distance = origin ? nearestDistanceKm(origin, c.coupon.locations) : undefined;
    return {
      id: c.id,
      score: round(c.ranked?.score ?? c.fused?.score ?? 0, 6),
      coupon: c.coupon,
      discount_label: discountPhrase(c.coupon),
      ...(distance !== undefined && { distance_km: round(distance, 2) }),
      ...(explain && { explain: explainCandidate(c, ctx.featureNames ?? []) }),
    };
  });
  return {
    query_id: ctx.request.queryId,
    total: ctx.total,
    limit,
    offset,
    results,
    ...(explain && {
      explain: {
        stages: Object.fromEntries(
          Object.entries(ctx.timings).map(([stage, ms]) => [stage, { ms: round(ms, 2), note: ctx.notes[stage as keyof typeof ctx.notes] ?? '' }]),
        ),
      },
    }),
  };
}
