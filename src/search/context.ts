import type { Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import type { GeoPoint } from '../domain/geo.ts';
import type { EmbeddingService } from '../embed/embedding-service.ts';
import type { StoredCoupon, VectorStore } from '../store/vector-store.ts';
import type { EventStore, UserAffinity } from '../events/event-store.ts';
import type { SpellingCorrector } from '../text/spelling.ts';
import type { FusionSettings } from './fusion.ts';
import type { SortOrder } from './sort-order.ts';
import type { Understood } from './query-understanding.ts';
import type { FacetCounts, FacetName } from './facets.ts';
import type { FacetPoolCache } from './facet-pool-cache.ts';
import type { Thesaurus } from '../synonyms/thesaurus.ts';
import type { Rule, RuleBook } from '../rules/rule.ts';

/** What every request has, whatever the surface. */
interface RequestBase {
  /** Free text; empty for similar coupons and for a known shopper's feed. */
  query: string;
  /** The shopper, when the caller names one: personal ranking signals come from here. */
  user?: { id: string; vector?: Float32Array | undefined; affinity?: UserAffinity | undefined } | undefined;
  filter?: Filter | undefined;
  /**
   * The API key's own filter (a tenant-scoped key): ANDed into every retrieval and pin, apart from
   * `filter` so that nothing the caller sends, and no facet's disjunctive relaxation, can drop it.
   */
  keyFilter?: Filter | undefined;
  /** Where the shopper is; used for distances in results. */
  origin?: GeoPoint | undefined;
  limit: number;
  offset: number;
  explain: boolean;
  /** The instant validity is judged at. */
  now: Date;
  /** Identifies this served list; clicks and redemptions name it to join back to it. */
  queryId: string;
  /** Correct unknown query words against the catalogue's vocabulary. @defaultValue true */
  typoTolerance?: boolean;
  /** The order of the results: relevance, or one field with ties by relevance. @defaultValue 'relevance' */
  sort?: SortOrder;
  /** Read coupon phrases ("half price", "under $15", "tonight") as filters and boosts. @defaultValue true */
  understand?: boolean;
  /** Facets to count over the candidates. @defaultValue none */
  facets?: readonly FacetName[];
}

/** What a caller asks, by surface: a text search, the neighbours of a seed coupon, or a shopper's feed. */
export type SearchRequest =
  | (RequestBase & { surface: 'search' })
  | (RequestBase & {
      surface: 'similar';
      /** The coupon to find neighbours of. */
      seedId: string;
      /** Which neighbours: by text, by behaviour, or both fused. */
      mode: 'content' | 'behavior' | 'blend';
    })
  | (RequestBase & {
      surface: 'feed';
      /** The shopper's behaviour vector, when the recommender can place them: retrieval runs on it. */
      userVector?: Float32Array | undefined;
    });

export type Surface = SearchRequest['surface'];

export interface StageScore {
  rank: number;
  score: number;
}

/** One coupon moving through the stages; each stage records what it decided about it. */
export interface Candidate {
  id: string;
  coupon: Coupon;
  vector?: Float32Array | undefined;
  /** The recommender's coupon vector, carried from retrieval so ranking never goes back to the store. */
  behaviorVector?: Float32Array | undefined;
  dense?: StageScore;
  lexical?: StageScore;
  /** Found by meaning when the words failed (the paraphrase retriever). */
  paraphrase?: StageScore;
  behavior?: StageScore;
  /** Decayed engagement, for the popularity fallback. */
  popularity?: StageScore;
  fused?: StageScore;
  /** Which of `queryForms` (synonym substitutions) its title matches best, set by the fusion; the features use that form. */
  queryForm?: number;
  /** The rank stage's score, the scorer that gave it, and the feature row (schema v3) behind it. */
  ranked?: { score: number; scorer: string; features: Float32Array };
  diversified?: { position: number; mmr: number; maxSimilarity: number; demoted: boolean };
  /** What boosts added to the rank score, and which. */
  boosted?: { added: number; by: string[] };
  /** Placed at a position by a merchandising rule. */
  pinned?: { position: number; rule: string };
  /** In a ranker experiment, the arm that placed it (team-draft interleaving). */
  team?: 'a' | 'b';
}

/** A preference: candidates matching `filter` gain `weight` × the spread of the rank scores (negative: bury). */
export interface Boost {
  filter: Filter;
  weight: number;
  /** Who asked for it, for explain ("understood \"half price\""). */
  reason: string;
}

export type StageName = 'embed' | 'retrieve' | 'fuse' | 'rank' | 'diversify' | 'page';

export interface SearchContext {
  request: SearchRequest;
  /** The query text retrieval and ranking use: the request's, or its typo-corrected form. */
  queryText: string;
  /** Set when typo tolerance rewrote the query. */
  correctedQuery?: string | undefined;
  /** The query with synonyms substituted, `queryText` first: lexical retrieval searches all their words, and each candidate is matched with the form its title uses. */
  queryForms?: readonly string[] | undefined;
  /** Phrases read as filters or boosts (query understanding). */
  understood?: Understood[] | undefined;
  /** Preferences applied after ranking (query understanding, merchandising rules). */
  boosts?: Boost[] | undefined;
  /** Facet counts over the candidates, when the request asked for facets. */
  facets?: FacetCounts | undefined;
  /** Coupons merchandising rules pin, set aside until the order is final. */
  pins?: Array<{ candidate: Candidate; position: number }> | undefined;
  /** The arms of the ranker experiment that interleaved this list. */
  experiment?: { a: string; b: string } | undefined;
  /** The merchandising rules that fire for this search (decided before retrieval). */
  firedRules?: Rule[] | undefined;
  /** Their pinned coupons, being read beside retrieval. */
  pinFetch?: Promise<Map<string, StoredCoupon> | Error> | undefined;
  /** Candidates retrieved without a facet's own filter, in flight (disjunctive faceting). */
  facetPools?: Partial<Record<FacetName, { from: 'recent' | 'retrieval'; pool: Promise<Coupon[] | Error> }>> | undefined;
  queryVector?: Float32Array | undefined;
  candidates: Candidate[];
  /** Candidates before paging (for `total`). */
  total: number;
  /** Milliseconds spent in each stage. */
  timings: Partial<Record<StageName, number>>;
  /** Milliseconds of the labelled parts (`embed-correct`, `rank-rules`…): what each feature costs on its own. */
  parts: Record<string, number>;
  /** One sentence per stage saying what it did, for `explain`. */
  notes: Partial<Record<StageName, string>>;
  /** Names of the values in each candidate's feature row (set by the rank stage), for `explain`. */
  featureNames?: readonly string[] | undefined;
}

/**
 * Computes the feature rows the rank stage scores. The ranking module implements it (features
 * from the query, the coupon, the event counters and the shopper); search only needs this shape.
 */
export interface Featurizer {
  /** What the term statistics behind the lexical features are, recorded with every served list. */
  readonly idfSource: string;
  /** Names of a row's values, in order. */
  readonly featureNames: readonly string[];
  /** Rows in candidate order; a failing signal source degrades to "missing", with a note. */
  compute(ctx: SearchContext, deps: Pick<SearchDeps, 'events' | 'pastQueries'>): Promise<{ rows: Float32Array[]; note?: string }>;
}

/** Engagement with coupons after past searches like a query (the ranking module keeps it from the served-list log). */
export interface PastQueryLookup {
  affinity(query: string): ReadonlyMap<string, { sum: number; max: number }>;
}

/** Rescores fused candidates from their feature rows in one batched call; the learned ranker implements this. */
export interface Scorer {
  readonly name: string;
  score(context: SearchContext, candidates: readonly Candidate[], features: readonly Float32Array[]): Promise<number[]> | number[];
}

export interface SearchSettings {
  /** Dense and lexical candidates fetched each. @defaultValue 200 */
  candidates: number;
  /** How query search fuses the dense and lexical lists. */
  fusion: FusionSettings;
  /** How similar coupons and feeds fuse behaviour, popularity and content lists. */
  recommendationFusion: FusionSettings;
  /** The paraphrase retriever runs when the lexical list is shorter than this and no title has every query term. */
  paraphrase: { maxLexicalHits: number };
  /** How often the vocabulary behind typo tolerance re-checks the store. */
  vocabularyRefreshMs: number;
  /** MMR trade-off: 1 is pure relevance. @defaultValue 0.8 */
  mmrLambda: number;
  /** Results per merchant before the rest are moved below the others. @defaultValue 2 */
  maxPerMerchant: number;
  /** Same-merchant neighbours at or above this cosine are near-duplicates in "similar". @defaultValue 0.95 */
  nearDuplicateCosine: number;
  /**
   * Share of served pages in which one random adjacent pair is swapped (RandPair exploration), so
   * the logs show coupons at more than one position and propensities can be estimated. @defaultValue 0
   */
  exploration: number;
}

export interface SearchDeps {
  store: VectorStore;
  events?: EventStore | undefined;
  embeddings: EmbeddingService;
  scorer: Scorer;
  features: Featurizer;
  settings: SearchSettings;
  /** The catalogue's vocabulary, once built: typo tolerance. */
  spelling?: SpellingCorrector | undefined;
  /** The synonym sets in force. */
  thesaurus?: Thesaurus | undefined;
  /** The merchandising rules in force. */
  rules?: RuleBook | undefined;
  /** Two rankers interleaved on every search (RANKER_EXPERIMENT). */
  experiment?: RankerExperiment | undefined;
  /** The sets recent faceted searches counted over, reused by disjunctive counts. */
  facetPoolCache?: FacetPoolCache | undefined;
  /** What shoppers engaged with after past searches, for the ranking features. */
  pastQueries?: PastQueryLookup | undefined;
}

export interface Stage {
  name: StageName;
  /** For a stage that is one part of its name's work (typo correction within `embed`): its own label, timed apart. */
  part?: string;
  run(context: SearchContext, deps: SearchDeps): Promise<SearchContext> | SearchContext;
}

/** What the engine's search, similar and feed calls take (the surface-specific parts aside). */
export interface SearchInput {
  query: string;
  filter?: Filter | undefined;
  /** The API key's filter, when the key is scoped to part of the catalogue. */
  keyFilter?: Filter | undefined;
  origin?: GeoPoint | undefined;
  limit: number;
  offset: number;
  explain: boolean;
  /** The shopper, when known: personal ranking signals (affinity, the recommender's score). */
  userId?: string | undefined;
  /** Correct unknown query words against the catalogue. @defaultValue true */
  typoTolerance?: boolean | undefined;
  sort?: SortOrder | undefined;
  /** Read coupon phrases as filters and boosts. @defaultValue true */
  understand?: boolean | undefined;
  facets?: readonly FacetName[] | undefined;
}

/** One arm of a ranker experiment: a scorer with the featurizer it was trained with. */
export interface ExperimentArm {
  /** What it is: a model version, or `fused`. */
  label: string;
  scorer: Scorer;
  features: Featurizer;
}

/** `RANKER_EXPERIMENT=<a>,<b>`: two arms, team-draft interleaved on every search. */
export interface RankerExperiment {
  a: ExperimentArm;
  b: ExperimentArm;
}
