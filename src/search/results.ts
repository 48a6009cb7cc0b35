import { z } from 'zod';
import type { Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import { FACET_NAMES } from './facets.ts';
import { UNDERSTOOD_KINDS } from './query-understanding.ts';
import { nearestDistanceKm } from '../domain/geo.ts';
import { discountPhrase } from '../text/coupon-text.ts';
import { termRanges, tokenize } from '../text/tokenize.ts';
import type { Candidate, SearchContext } from './context.ts';

const stageScore = z.object({ rank: z.number().int(), score: z.number() });

/** What `explain=true` adds to a result: each stage's decision about it. */
const candidateExplanation = z.object({
  dense: stageScore.optional(),
  lexical: stageScore.optional(),
  paraphrase: stageScore.optional(),
  behavior: stageScore.optional(),
  popularity: stageScore.optional(),
  fused: stageScore.optional(),
  rank: z.object({ scorer: z.string(), score: z.number(), features: z.record(z.string(), z.number()) }).optional(),
  diversify: z.object({ position: z.number().int(), mmr: z.number().nullable(), max_similarity: z.number(), demoted: z.boolean() }).optional(),
  pinned: z.object({ position: z.number().int(), rule: z.string() }).optional().describe('Placed here by a merchandising rule'),
});

/**
 * The wire shape of every search, similar and feed response. The types below are inferred from
 * it and /openapi.json is generated from it, so the two cannot drift apart.
 */
export const searchResponseSchema = z.object({
  query_id: z.string().describe('Send it back, with the position, on impression, click, save and redeem events'),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  corrected_query: z.string().optional().describe('The query as searched, when typo tolerance corrected it'),
  understood: z
    .array(
      z.object({
        text: z.string().describe('The phrase as typed'),
        as: z.enum(UNDERSTOOD_KINDS),
        filter: z.custom<Filter>().optional().describe('A constraint every result satisfies (filter AST)'),
        boost: z.custom<Filter>().optional().describe('A preference: results matching it come first (filter AST)'),
      }),
    )
    .optional()
    .describe('Coupon phrases read as filters or boosts (understand=false turns this off)'),
  facets: z
    .partialRecord(z.enum(FACET_NAMES), z.array(z.object({ value: z.string(), count: z.number().int() })))
    .optional()
    .describe('Counts per facet value; discount values are "at least N %", distance values "within N km"'),
  facets_counted: z
    .literal('candidates')
    .optional()
    .describe('What the facets counted: the candidates retrieved under the filter (a facet the filter constrains: the candidates without that constraint)'),
  results: z.array(
    z.object({
      id: z.string(),
      score: z.number(),
      coupon: z.custom<Coupon>().describe('The coupon, as stored (see the Coupon schema)'),
      discount_label: z.string().describe('"50% off", "$10 off", "buy one get one free"…'),
      distance_km: z.number().optional().describe('To the nearest store, when the request had a location and the coupon has stores'),
      boosted_by: z.array(z.string()).optional().describe('Boosts this result matched (understood phrases, rules)'),
      highlight: z
        .object({ title: z.array(z.tuple([z.number().int(), z.number().int()])), description: z.array(z.tuple([z.number().int(), z.number().int()])) })
        .describe('Where the query terms (as searched: stemmed, typo-corrected) occur, as [start, end) character ranges'),
      explain: candidateExplanation.optional(),
    }),
  ),
  explain: z.object({ stages: z.record(z.string(), z.object({ ms: z.number(), note: z.string() })) }).optional(),
});

export type SearchResponse = z.infer<typeof searchResponseSchema>;
export type SearchResult = SearchResponse['results'][number];
type CandidateExplanation = z.infer<typeof candidateExplanation>;

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A feature row as `{ name: value }`, four decimals. */
function named(names: readonly string[], row: Float32Array): Record<string, number> {
  return Object.fromEntries(names.map((name, i) => [name, round(row[i]!)]));
}

function explainCandidate(c: Candidate, names: readonly string[]): CandidateExplanation {
  return {
    ...(c.dense && { dense: { rank: c.dense.rank, score: round(c.dense.score) } }),
    ...(c.lexical && { lexical: { rank: c.lexical.rank, score: round(c.lexical.score) } }),
    ...(c.paraphrase && { paraphrase: { rank: c.paraphrase.rank, score: round(c.paraphrase.score) } }),
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
    ...(c.pinned && { pinned: c.pinned }),
  };
}

/** The wire shape of a finished pipeline run. */
export function toResponse(ctx: SearchContext): SearchResponse {
  const { origin, explain, limit, offset } = ctx.request;
  // Highlights show the words as searched: stemmed, typo-corrected, and every synonym form's.
  const terms = new Set((ctx.queryForms ?? [ctx.queryText]).flatMap((form) => tokenize(form)));
  const results = ctx.candidates.map((c): SearchResult => {
    const distance = origin ? nearestDistanceKm(origin, c.coupon.locations) : undefined;
    return {
      id: c.id,
      score: round(c.ranked?.score ?? c.fused?.score ?? 0, 6),
      coupon: c.coupon,
      discount_label: discountPhrase(c.coupon),
      ...(distance !== undefined && { distance_km: round(distance, 2) }),
      ...(c.boosted && { boosted_by: c.boosted.by }),
      highlight: { title: termRanges(c.coupon.title, terms), description: termRanges(c.coupon.description, terms) },
      ...(explain && { explain: explainCandidate(c, ctx.featureNames ?? []) }),
    };
  });
  return {
    query_id: ctx.request.queryId,
    total: ctx.total,
    limit,
    offset,
    ...(ctx.correctedQuery !== undefined && { corrected_query: ctx.correctedQuery }),
    ...(ctx.understood?.length && { understood: ctx.understood }),
    ...(ctx.facets && { facets: ctx.facets, facets_counted: 'candidates' as const }),
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

/** The wire shape of `GET /v1/suggest`. */
export const suggestResponseSchema = z.object({
  suggestions: z.array(
    z.object({
      text: z.string(),
      kind: z.enum(['query', 'merchant', 'category', 'coupon']),
      count: z.number().int().describe('Coupons it matches: the last result count of a query; the coupons of a merchant, category or title'),
    }),
  ),
});
