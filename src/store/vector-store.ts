import type { Coupon } from '../domain/coupon.ts';
import type { Filter } from '../domain/filter.ts';
import { COUPON_TEXT_VERSION } from '../text/coupon-text.ts';

/**
 * The vector store port. Adapters: LanceDB (`lancedb/`, embedded default) and Qdrant (`qdrant/`).
 * One behavioural contract suite (`test/contract/vector-store.contract.ts`) runs against each.
 */

/** The vector space the stored vectors live in; a change of any field needs a reindex. */
export interface VectorSpace {
  embedderId: string;
  dims: number;
  textVersion: number;
}

export interface IndexedCoupon {
  coupon: Coupon;
  /** Unit-length embedding of `embeddingText(coupon)`. */
  vector: Float32Array;
  /** The recommender's coupon vector (BEHAVIOR_DIMS), when a recommender model is loaded. */
  behavior?: Float32Array | undefined;
}

/** Dimension of the recommender's user and coupon vectors in every store (`cf`). */
export const BEHAVIOR_DIMS = 64;

/** A stored coupon; `vector` only when asked for. */
export interface StoredCoupon {
  coupon: Coupon;
  vector?: Float32Array | undefined;
  behavior?: Float32Array | undefined;
}

export interface Hit {
  id: string;
  /** Higher is better: cosine similarity for kNN, BM25 for lexical search. */
  score: number;
  coupon: Coupon;
  vector?: Float32Array | undefined;
  /** The recommender's coupon vector, when asked for with `withVectors` and the coupon has one. */
  behavior?: Float32Array | undefined;
}

export interface SearchOptions {
  k: number;
  filter?: Filter | undefined;
  /** Return each hit's vectors: text (MMR needs it) and behaviour (the rank stage's CF score). @defaultValue false */
  withVectors?: boolean;
}

export interface StoredVersion {
  id: string;
  version: number;
}

export interface UpsertResult {
  /** Ids written (new, or replacing an older version). */
  written: string[];
  /** Ids skipped because the store already holds the same or a newer version. */
  stale: string[];
}

export interface StoreStats {
  count: number;
  /** Whether an ANN index serves kNN (below the size threshold search is exact). */
  annIndexed: boolean;
  space: VectorSpace | undefined;
  /** Data fragments of the live table, for stores that have them (LanceDB): what compaction bounds. */
  fragments?: number | undefined;
}

export interface VectorStore {
  readonly kind: string;
  /**
   * Opens the store for `space`, creating it when empty. Returns the space the stored vectors were
   * made in: the caller compares it with `space` and refuses to mix vector spaces.
   */
  open(space: VectorSpace): Promise<VectorSpace>;
  /** Writes each coupon unless the store holds the same or a newer `version` of it. */
  upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult>;
  delete(ids: readonly string[]): Promise<void>;
  get(ids: readonly string[], options?: { withVectors?: boolean }): Promise<Map<string, StoredCoupon>>;
  /** Nearest neighbours by cosine similarity among coupons matching the filter (applied before the search). */
  knn(vector: Float32Array, options: SearchOptions): Promise<Hit[]>;
  /** Largest dot product with the coupons' behaviour vectors (only coupons that have one). */
  knnBehavior(vector: Float32Array, options: SearchOptions): Promise<Hit[]>;
  /**
   * Stores users' behaviour vectors (replacing earlier ones): this process reads them once it
   * resolves. An adapter may commit them behind (LanceDB: within 200 ms, and on close()); they are
   * derived from stored events, which a user's next event recomputes them from.
   */
  upsertUsers(vectors: ReadonlyMap<string, Float32Array>): Promise<void>;
  getUsers(ids: readonly string[]): Promise<Map<string, Float32Array>>;
  /** BM25 full-text search among coupons matching the filter. */
  lexical(query: string, options: SearchOptions): Promise<Hit[]>;
  /** Every stored coupon, in batches (for reindexing). */
  scan(batchSize?: number): AsyncIterable<IndexedCoupon[]>;
  /** The id and version of every stored coupon, in batches (what a serving index reconciles with). */
  versions(): AsyncIterable<StoredVersion[]>;
  /**
   * A value that changes whenever the stored coupons may have changed, by this process or another
   * (a write, a delete, a reindex); undefined when the store cannot tell.
   */
  changeToken(): Promise<string | undefined>;
  /** A fresh, empty store in `space` that replaces this one atomically on `commit()`. */
  beginRebuild(space: VectorSpace): Promise<StoreRebuild>;
  /**
   * Compacts and builds or refreshes indexes (ANN once past the size threshold, full-text). A
   * writer streaming a load passes `streaming: true`: a kNN index (re)build that is due then either
   * finishes in the background while writes go on (the next run waits for it) or, where the store
   * says so, waits for a run without `streaming`.
   */
  optimize(options?: OptimizeOptions): Promise<void>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}

export interface OptimizeOptions {
  /**
   * Writes are still streaming in: return once compaction and index upkeep are done, without
   * waiting for a kNN index build (default false: writes have gone quiet, build what is due and wait).
   */
  streaming?: boolean;
}

export interface StoreRebuild {
  upsert(docs: readonly IndexedCoupon[]): Promise<UpsertResult>;
  /** Makes the rebuilt store the live one and drops the old. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The space an embedder's coupon vectors live in (after `ready()`: an adaptation or a model may set its id and dims). */
export function spaceOf(embedder: { id: string; dims: number }): VectorSpace {
  return { embedderId: embedder.id, dims: embedder.dims, textVersion: COUPON_TEXT_VERSION };
}

/** Same vector space? */
export function sameSpace(a: VectorSpace, b: VectorSpace): boolean {
  return a.embedderId === b.embedderId && a.dims === b.dims && a.textVersion === b.textVersion;
}

export function describeSpace(s: VectorSpace): string {
  return `${s.embedderId} (${s.dims}-d, coupon text v${s.textVersion})`;
}
