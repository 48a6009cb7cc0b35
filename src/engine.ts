import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import type { CatalogueVocabulary } from './search/catalogue-vocabulary.ts';
import type { PastQueryMemory } from './ranking/past-queries.ts';
import type { Suggestion } from './search/suggestions.ts';
import { suggestWithinFilter } from './search/scoped-suggestions.ts';
import { FacetPoolCache } from './search/facet-pool-cache.ts';
import type { Coupon } from './domain/coupon.ts';
import type { CouponEvent, EventSource, RecordedEvent } from './domain/event.ts';
import { allOf, type Filter, matchesFilter } from './domain/filter.ts';
import type { EmbeddingService } from './embed/embedding-service.ts';
import { NotFoundError, OutsideKeyFilterError, UnavailableError } from './errors.ts';
import type { DefinitionStore } from './definitions/definition-store.ts';
import type { EventStore, UserAffinity } from './events/event-store.ts';
import type { Rules } from './rules/rule.ts';
import type { Synonyms } from './synonyms/synonym-set.ts';
import type { Indexer } from './indexing/handler.ts';
import type { IndexJob } from './indexing/jobs.ts';
import type { JobInfo, JobQueue } from './indexing/queue.ts';
import type { Logger } from './log.ts';
import type { Ranking } from './ranking/load-ranking.ts';
import { ServedListLog } from './ranking/served-log.ts';
import type { RecommenderService } from './recommend/recommender-service.ts';
import type { RankerExperiment, SearchContext, SearchDeps, SearchInput, SearchRequest, Stage } from './search/context.ts';
import { RECOMMEND_STAGES, runPipeline, SEARCH_STAGES, SIMILAR_STAGES } from './search/pipeline.ts';
import { toResponse, type SearchResponse } from './search/results.ts';
import type { VectorSpaceGuard } from './store/vector-space-guard.ts';
import { type Readiness, readinessOf } from './observability/readiness.ts';
import type { VectorSpace, VectorStore } from './store/vector-store.ts';
import type { MetricsSources } from './observability/metrics.ts';
export type { Readiness } from './observability/readiness.ts';
export type { SearchInput };

export interface SearchOutcome {
  response: SearchResponse;
  timings: SearchContext['timings'];
  /** The labelled parts' own milliseconds (`embed-correct`, `rank-rules`…), also in Server-Timing. */
  parts: SearchContext['parts'];
}

/** Omit over each member of a union (keeps the union's tags). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What the composition root hands the engine (see composition.ts). */
export interface EngineParts {
  config: Config;
  logger: Logger;
  store: VectorStore;
  events: EventStore;
  embeddings: EmbeddingService;
  spaceGuard: VectorSpaceGuard;
  indexer: Indexer;
  queue: JobQueue;
  recommender: RecommenderService | undefined;
  /** The rank stage's scorer and featurizer, and why it is the fused order when no learned ranker could load. */
  ranking: Ranking;
  /** The BullMQ worker running in this process, if any. */
  worker: { close(): Promise<void> } | undefined;
  /** The catalogue's words, for typo tolerance (started by the composition root). */
  vocabulary: CatalogueVocabulary;
  /** What shoppers engaged with after past searches, a ranking feature (started by the composition root). */
  pastQueries: PastQueryMemory;
  /** Where synonym sets (and rules) are persisted. */
  definitions: DefinitionStore;
  /** The synonym sets and merchandising rules in force (started by the composition root). */
  synonyms: Synonyms;
  rules: Rules;
  /** The time a search is judged at. */
  clock: () => Date;
  /** Two rankers interleaved on every search (RANKER_EXPERIMENT), if any. */
  experiment: RankerExperiment | undefined;
}

/**
 * The application: one embedder, one store, one queue, the search pipeline, wired from config.
 * The HTTP API, the worker process and the CLIs all drive the engine through these methods.
 */
export class Engine {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: VectorStore;
  readonly events: EventStore;
  readonly embeddings: EmbeddingService;
  readonly indexer: Indexer;
  readonly queue: JobQueue;
  readonly recommender: RecommenderService | undefined;
  readonly ranking: Ranking;
  /** Synonym sets and rules: `/v1/synonyms` and `/v1/rules` manage them; search applies them. */
  readonly synonyms: Synonyms;
  readonly rules: Rules;
  private readonly clock: () => Date;
  private readonly experiment: RankerExperiment | undefined;
  private readonly definitions: DefinitionStore;
  private readonly spaceGuard: VectorSpaceGuard;
  private readonly worker: { close(): Promise<void> } | undefined;
  private readonly vocabulary: CatalogueVocabulary;
  private readonly pastQueries: PastQueryMemory;
  /** Served result lists, for training the ranker on what shoppers saw (off when LOG_SERVED_LISTS=false). */
  private readonly servedLog: ServedListLog | undefined;
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly facetPoolCache = new FacetPoolCache();
  private draining = false;

  constructor(parts: EngineParts) {
    ({
      config: this.config,
      logger: this.logger,
      store: this.store,
      events: this.events,
      embeddings: this.embeddings,
      indexer: this.indexer,
      queue: this.queue,
    } = parts);
    ({ recommender: this.recommender, ranking: this.ranking, spaceGuard: this.spaceGuard, worker: this.worker } = parts);
    ({
      vocabulary: this.vocabulary,
      pastQueries: this.pastQueries,
      definitions: this.definitions,
      synonyms: this.synonyms,
      rules: this.rules,
      clock: this.clock,
      experiment: this.experiment,
    } = parts);
    this.servedLog = this.config.logServedLists
      ? new ServedListLog(this.events, this.logger.child({ component: 'served-log' }), { idf: this.ranking.features.idfSource })
      : undefined;
  }

  /** The running embedder's vector space. */
  get space(): VectorSpace {
    return this.spaceGuard.space;
  }

  private async deps(): Promise<SearchDeps> {
    await this.spaceGuard.check(this.store);
    return {
      store: this.store,
      events: this.events,
      embeddings: this.embeddings,
      scorer: this.ranking.scorer,
      features: this.ranking.features,
      settings: this.config.search,
      spelling: this.vocabulary.corrector,
      thesaurus: this.synonyms.compiled,
      rules: this.rules.compiled,
      experiment: this.experiment,
      facetPoolCache: this.facetPoolCache,
      pastQueries: this.pastQueries.current,
    };
  }

  /** Runs the search pipeline; `timings` (ms per stage) feed the Server-Timing header and metrics. */
  async search(input: SearchInput, signal?: AbortSignal): Promise<SearchOutcome> {
    const user = input.userId ? await this.shopper(input.userId) : undefined;
    const outcome = await this.run(SEARCH_STAGES, { ...input, surface: 'search', user }, signal);
    // Searches that found coupons become suggestions, in the form they were searched.
    this.vocabulary.addQuery(outcome.response.corrected_query ?? input.query, outcome.response.total);
    return outcome;
  }

  /** Autocomplete for a prefix: past queries, merchants, categories and coupon titles; for a scoped key, only from the coupons it can see. */
  async suggest(prefix: string, limit: number, keyFilter?: Filter): Promise<Suggestion[]> {
    if (!keyFilter) return this.vocabulary.suggestions.suggest(prefix, limit);
    return suggestWithinFilter(prefix, limit, keyFilter, { store: this.store, index: this.vocabulary.suggestions, now: this.clock() });
  }

  async similar(id: string, input: Omit<SearchInput, 'query'> & { mode?: 'content' | 'behavior' | 'blend' }, signal?: AbortSignal): Promise<SearchOutcome> {
    const user = input.userId ? await this.shopper(input.userId) : undefined;
    return this.run(SIMILAR_STAGES, { ...input, surface: 'similar', mode: input.mode ?? 'content', user, query: '', seedId: id }, signal);
  }

  /**
   * A user's feed: the nearest coupons to their behaviour vector (stored, or computed now from
   * their recent coupons), never one they redeemed or dismissed; a user the recommender cannot
   * place gets the most engaged-with coupons under the filter (near them when lat/lon are given).
   */
  async recommend(userId: string, input: Omit<SearchInput, 'query'> & { recentQuery?: string | undefined }, signal?: AbortSignal): Promise<SearchOutcome> {
    const user = await this.shopper(userId);
    const { affinity } = user;
    if (!user.vector && this.recommender && affinity.recent.length) user.vector = await this.recommender.userVectorFor(affinity, this.store);
    const filter = allOf(input.filter, affinity.excluded.length ? { not: { id: affinity.excluded.slice(0, 200) } } : undefined);
    const known = this.recommender ? user.vector : undefined;
    // A recent query is context for a user the model cannot place; a known user's feed is their vector.
    const query = known ? '' : (input.recentQuery ?? '');
    return this.run(RECOMMEND_STAGES, { ...input, surface: 'feed', filter, query, userVector: known, user }, signal);
  }

  /** The one runner behind search, similar and feeds: the space check, the pipeline, the served-list log. */
  private async run(stages: readonly Stage[], request: DistributiveOmit<SearchRequest, 'now' | 'queryId'>, signal?: AbortSignal): Promise<SearchOutcome> {
    const deps = await this.deps();
    const ctx = await runPipeline(stages, { ...request, now: this.clock(), queryId: randomUUID() }, deps, signal);
    this.servedLog?.record(ctx);
    return { response: toResponse(ctx), timings: ctx.timings, parts: ctx.parts };
  }

  /** A named shopper's affinity and behaviour vector; an unknown one is just an id. */
  private async shopper(userId: string): Promise<{ id: string; affinity: UserAffinity; vector: Float32Array | undefined }> {
    const [affinity, vectors] = await Promise.all([this.events.userAffinity(userId), this.store.getUsers([userId])]);
    return { id: userId, affinity, vector: vectors.get(userId) };
  }

  /** One stored coupon; one outside the key's filter is not found, like a missing one. */
  async getCoupon(id: string, keyFilter?: Filter): Promise<Coupon> {
    const found = (await this.store.get([id])).get(id);
    if (!found || (keyFilter && !matchesFilter(found.coupon, keyFilter))) throw new NotFoundError('coupon', id);
    return found.coupon;
  }

  /**
   * Queues one upsert job per coupon; returns the job ids. `requestId` follows the jobs into the
   * worker's logs. Past QUEUE_MAX_DEPTH unfinished jobs the whole batch is refused (503 with
   * Retry-After) before anything is queued, so a loader slows down instead of the queue growing.
   */
  async upsertCoupons(coupons: readonly Coupon[], requestId?: string): Promise<string[]> {
    await this.admit(coupons.length);
    const ids = await this.queue.enqueue(coupons.map((coupon): IndexJob => ({ type: 'upsert', coupon, requestId })));
    this.vocabulary.add(coupons);
    return ids;
  }

  /** Refuses writes while the queue is over its cap (before a request body is even parsed). */
  async admit(jobs: number): Promise<void> {
    const depth = await this.queue.depth();
    const max = this.config.queue.maxDepth;
    if (depth > 0 && depth + jobs > max) {
      throw new UnavailableError('queue', `${depth} indexing jobs are waiting or running (QUEUE_MAX_DEPTH=${max}); retry later`, { retryAfterSeconds: 2 });
    }
  }

  async deleteCoupon(id: string, requestId?: string): Promise<string> {
    await this.admit(1);
    const [jobId] = await this.queue.enqueue([{ type: 'delete', id, requestedAt: Date.now(), requestId }]);
    return jobId!;
  }

  async reindex(requestId?: string): Promise<string> {
    const [jobId] = await this.queue.enqueue([{ type: 'reindex', requestedAt: Date.now(), requestId }]);
    return jobId!;
  }

  /**
   * Stores interaction events (a replayed event id changes nothing), each with the key that posted
   * it; a tenant-scoped key may only name coupons inside its filter. Has the counters updated:
   * by a queue job when events live in PostgreSQL (any worker can run it), inline for the
   * embedded file store, which belongs to this process alone.
   */
  async recordEvents(events: readonly CouponEvent[], by: EventSource = {}): Promise<{ accepted: number; duplicates: number; job_id?: string }> {
    const { requestId, keyId, keyFilter } = by;
    if (keyFilter) {
      const ids = [...new Set(events.map((e) => e.coupon_id))];
      const found = await this.store.get(ids);
      const outside = ids.filter((id) => !found.has(id) || !matchesFilter(found.get(id)!.coupon, keyFilter));
      if (outside.length) throw new OutsideKeyFilterError(outside);
    }
    const { inserted, duplicates } = await this.events.append(keyId ? events.map((e): RecordedEvent => ({ ...e, key_id: keyId })) : events);
    if (inserted.length === 0) return { accepted: 0, duplicates: duplicates.length };
    if (this.events.kind === 'file') {
      await this.indexer.handle({ type: 'counters', eventIds: inserted }, { progress: async () => undefined });
      return { accepted: inserted.length, duplicates: duplicates.length };
    }
    const [jobId] = await this.queue.enqueue([{ type: 'counters', eventIds: inserted, requestId }]);
    return { accepted: inserted.length, duplicates: duplicates.length, job_id: jobId! };
  }

  /**
   * Waits until a job completes or fails, or `timeoutMs` passes, and returns its latest state;
   * `onProgress` sees each poll (a progress bar). The one wait loop for the API, the CLIs and seeding.
   */
  async waitForJob(id: string, timeoutMs: number, onProgress?: (job: JobInfo) => void): Promise<JobInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(id);
      onProgress?.(job);
      if (job.state === 'completed' || job.state === 'failed' || Date.now() >= deadline) return job;
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(20, deadline - Date.now()))));
    }
  }

  /** Waits until no indexing job is waiting or running, then commits what is batched; `onPending` sees each poll. Returns early once shutting down. */
  async waitForIndexing(onPending?: (pending: number) => void): Promise<void> {
    for (;;) {
      const c = await this.queue.counts();
      const pending = c.waiting + c.active + c.delayed;
      onPending?.(pending);
      if (pending === 0) break;
      // Shutting down: the queue finishes (or journals) the rest; nobody should wait for it here.
      if (this.draining) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    await this.indexer.flush();
  }

  /** Which adapters and models run (start-up log, metrics). */
  describe(): { store: string; queue: string; embedder: string; ranker: string; recommender: string } {
    return {
      store: this.store.kind,
      queue: this.queue.kind,
      embedder: this.space.embedderId,
      ranker: this.ranking.scorer.name === 'fused' ? 'none' : this.ranking.detail,
      recommender: this.recommender?.version ?? 'none',
    };
  }

  /** What /metrics reads at scrape time, as callbacks: the metrics module never sees the engine's parts. */
  metricsSources(): MetricsSources {
    return {
      jobCounts: () => this.queue.counts(),
      indexStats: () => this.store.stats(),
      writerStats: () => this.indexer.writer.stats,
      models: () => this.describe(),
    };
  }

  async job(id: string): Promise<JobInfo> {
    const info = await this.queue.get(id);
    if (!info) throw new NotFoundError('job', id);
    return info;
  }

  async readiness(): Promise<Readiness> {
    const { store, events, queue, ranking, recommender } = this;
    return readinessOf({ store, events, queue, ranking, recommender, space: this.space, checkSpace: () => this.deps(), draining: this.draining });
  }

  /** Shutting down: background work (the sample seeding) stops at its next step. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Shutdown has begun: readiness fails so load balancers send no new requests; requests still arriving are served. */
  startDraining(): void {
    this.draining = true;
  }

  /** Registers something to close with the engine (e.g. the HTTP layer's rate-limiter connection). */
  onClose(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  /** Stops taking work, finishes running jobs and flushes batched writes. */
  async close(): Promise<void> {
    this.vocabulary.stop();
    this.pastQueries.stop();
    this.synonyms.stop();
    this.rules.stop();
    await Promise.all(this.closers.map((c) => c()));
    await this.servedLog?.flush();
    await this.worker?.close();
    await this.queue.close();
    await this.indexer.close();
    await this.store.close();
    await this.events.close();
    await this.definitions.close();
    await this.embeddings.close();
  }
}
