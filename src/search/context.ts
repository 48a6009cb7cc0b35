import type { Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import type { GeoPoint } from '../domain/geo.ts';
import type { EmbeddingService } from '../embed/embedding-service.ts';
import type { VectorStore } from '../store/vector-store.ts';
import type { EventStore } from '../events/event-store.ts';

/** What a caller asks: a text query or a seed coupon, a filter, a page. */
export interface SearchRequest {
  /** Free text; empty for "similar to `seedId`". */
  query: string;
  /** For similar-coupon requests: the coupon to find neighbours of. */
  seedId?: string | undefined;
  /** For similar: which neighbours (text, behaviour, or both fused). @defaultValue 'content' */
  mode?: 'content' | 'behavior' | 'blend' | undefined;
  /** For recommendations: the user's behaviour vector, when known. */
  userVector?: Float32Array | undefined;
  filter?: Filter | undefined;
  /** Where the shopper is; used for distances in results. */
  origin?: GeoPoint | undefined;
  limit: number;
  offset: number;
  explain: boolean;
  /** The instant validity is judged at. */
  now: Date;
}

export interface StageScore {
  rank: number;
  score: number;
}

/** One coupon moving through the stages; each stage records what it decided about it. */
export interface Candidate {
  id: string;
  coupon: Coupon;
  vector?: Float32Array | undefined;
  dense?: StageScore;
  lexical?: StageScore;
  behavior?: StageScore;
  /** Decayed engagement, for the popularity fallback. */
  popularity?: StageScore;
  fused?: StageScore;
  ranked?: { score: number; scorer: string; features?: Record<string, number> };
  diversified?: { position: number; mmr: number; maxSimilarity: number; demoted: boolean };
}

export type StageName = 'embed' | 'retrieve' | 'fuse' | 'rank' | 'diversify' | 'page';

export interface SearchContext {
  request: SearchRequest;
  queryVector?: Float32Array | undefined;
  candidates: Candidate[];
  /** Candidates before paging (for `total`). */
  total: number;
  /** Milliseconds spent in each stage. */
  timings: Partial<Record<StageName, number>>;
  /** One sentence per stage saying what it did, for `explain`. */
  notes: Partial<Record<StageName, string>>;
}

/** Scores for candidates, with the features behind them when the scorer has any (for explain). */
export interface ScoredBatch {
  scores: number[];
  features?: Array<Record<string, number>>;
}

/** Rescores fused candidates in one batched call; the learned ranker implements this too. */
export interface Scorer {
  readonly name: string;
  score(context: SearchContext, candidates: readonly Candidate[]): Promise<ScoredBatch>;
}

export interface SearchSettings {
  /** Dense and lexical candidates fetched each. @defaultValue 200 */
  candidates: number;
  /** Reciprocal rank fusion constant. @defaultValue 60 */
  rrfK: number;
  /** MMR trade-off: 1 is pure relevance. @defaultValue 0.8 */
  mmrLambda: number;
  /** Results per merchant before the rest are moved below the others. @defaultValue 2 */
  maxPerMerchant: number;
  /** Same-merchant neighbours at or above this cosine are near-duplicates in "similar". @defaultValue 0.95 */
  nearDuplicateCosine: number;
}

export interface SearchDeps {
  store: VectorStore;
  events?: EventStore | undefined;
  embeddings: EmbeddingService;
  scorer: Scorer;
  settings: SearchSettings;
}

export interface Stage {
  name: StageName;
  run(context: SearchContext, deps: SearchDeps): Promise<SearchContext> | SearchContext;
}
