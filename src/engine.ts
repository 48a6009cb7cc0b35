import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BullQueue, startBullWorker } from '../indexer/bullmq-queue.ts';
import { createIndexer, type Indexer } from '../indexer/handler.ts';
import { InlineQueue } from '../indexer/inline-queue.ts';
import type { IndexJob } from '../indexer/jobs.ts';
import type { JobInfo, JobQueue, RetryPolicy } from '../indexer/queue.ts';
import type { Config } from './config.ts';
import type { Coupon } from './domain/coupon.ts';
import type { CouponEvent } from './domain/event.ts';
import { allOf, type Filter } from './domain/filter.ts';
import type { GeoPoint } from './domain/geo.ts';
import { createEmbedder } from './embed/create-embedder.ts';
import { EmbedderPool } from './embed/embedder-pool.ts';
import { EmbeddingService } from './embed/embedding-service.ts';
import { NotFoundError, ReindexRequiredError, UnavailableError } from './errors.ts';
import { createEventStore } from './events/create-event-store.ts';
import type { EventStore, UserAffinity } from './events/event-store.ts';
import type { Logger } from './log.ts';
import { RecommenderService } from './recommend/recommender-service.ts';
import type { Scorer, SearchContext, SearchDeps } from './search/context.ts';
import { loadRanker } from './ranking/artifacts.ts';
import { idfLookup } from './ranking/features.ts';
import { RankingFeaturizer } from './ranking/featurizer.ts';
import { LearnedScorer } from './ranking/learned-scorer.ts';
import { ServedListLog } from './ranking/served-log.ts';
import { RECOMMEND_STAGES, runPipeline, SEARCH_STAGES, SIMILAR_STAGES } from './search/pipeline.ts';
import { toResponse, type SearchResponse } from './search/results.ts';
import { fusedScorer } from './search/stages/rank.ts';
import { createStore } from './store/create-store.ts';
import { describeSpace, sameSpace, type VectorSpace, type VectorStore } from './store/vector-store.ts';
import { COUPON_TEXT_VERSION } from './text/coupon-text.ts';

function outcomeOf(ctx: SearchContext): SearchOutcome {
  return { response: toResponse(ctx), timings: ctx.timings };
}

/** What the rank stage runs with: the scorer, the featurizer (IDF of the model), and why. */
interface Ranking {
  scorer: Scorer;
  features: RankingFeaturizer;
  detail: string;
}

/** The learned ranker when one loads from `dir`; otherwise the fused order, with the reason. */
async function loadRanking(dir: string | undefined, logger: Logger): Promise<Ranking> {
  const fused = (detail: string): Ranking => ({ scorer: fusedScorer, features: RankingFeaturizer.uniform(), detail });
  if (!dir) return fused('ranking turned off: fused order');
  if (!existsSync(path.join(dir, 'metadata.json'))) return fused(`no ranker model in ${dir}: fused order (npm run eval:ranking -- --save ${dir}, or npm run train:ranker)`);
  try {
    const { ranker, metadata, idf } = await loadRanker(dir);
    return {
      scorer: new LearnedScorer(ranker, metadata.version, metadata.queryless ?? false),
      features: new RankingFeaturizer(idfLookup(idf), `ranker ${metadata.version}`),
      detail: `${metadata.name} ${metadata.version} (features v${metadata.features.version})`,
    };
  } catch (error) {
    logger.error({ err: error, dir }, 'the ranker failed to load: search uses the fused order');
    return fused(`ranker in ${dir} failed to load (${(error as Error).message}): fused order`);
  }
}

export interface EngineOptions {
  config: Config;
  logger: Logger;
  /** Run indexing jobs in this process (always true for the inline queue). */
  runWorker: boolean;
  /** Override for tests (short backoff). */
  retry?: RetryPolicy;
  /** Debounce of index maintenance after writes. */
  optimizeDelayMs?: number;
}

export interface SearchInput {
  query: string;
  filter?: Filter | undefined;
  origin?: GeoPoint | undefined;
  limit: number;
  offset: number;
  explain: boolean;
  /** The shopper, when known: personal ranking signals (affinity, the recommender's score). */
  userId?: string | undefined;
}

export interface SearchOutcome {
  response: SearchResponse;
  timings: SearchContext['timings'];
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/**
 * The application: one embedder, one store, one queue, the search pipeline, wired from config.
 * The HTTP API, the worker process and the CLIs all drive the engine through these methods.
 */
export class Engine {
  private worker: { close(): Promise<void> } | undefined;
  private reindexMessage: string | undefined;
  /** Served result lists, for training the ranker on what shoppers saw (off when LOG_SERVED_LISTS=false). */
  private readonly servedLog: ServedListLog | undefined;
  private readonly closers: Array<() => Promise<void>> = [];
  private draining = false;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly store: VectorStore,
    readonly events: EventStore,
    readonly embeddings: EmbeddingService,
    readonly space: VectorSpace,
    private storedSpace: VectorSpace,
    readonly indexer: Indexer,
    readonly queue: JobQueue,
    readonly recommender: RecommenderService | undefined,
    /** The rank stage's scorer and featurizer, and why it is the fused order when no learned ranker could load. */
    readonly ranking: Ranking,
  ) {
    this.checkSpace();
    this.servedLog = config.logServedLists ? new ServedListLog(events, logger.child({ component: 'served-log' }), { idf: ranking.features.idfSource }) : undefined;
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const { config, logger } = options;
    const embedder = createEmbedder(config.embedder);
    await embedder.ready();
    const space: VectorSpace = { embedderId: embedder.id, dims: embedder.dims, textVersion: COUPON_TEXT_VERSION };
    const store = createStore(config.store);
    const storedSpace = await store.open(space);
    const events = createEventStore(config.events);
    await events.open();
    const recommender = config.recommenderDir ? await RecommenderService.load(config.recommenderDir) : undefined;
    const ranking = await loadRanking(config.rankerDir, logger);
    if (config.recommenderDir && !recommender) logger.warn({ dir: config.recommenderDir }, 'no recommender model: feeds fall back to popularity (npm run train:recommender)');
    // Queries embed on this thread (latency); documents on a pool of threads (throughput). Only
    // USE-lite needs the pool: TF.js wasm is single-threaded under Node, while ONNX Runtime
    // (transformers.js) has its own thread pool and crashes V8 when loaded in worker threads.
    // An API process whose jobs run in separate workers embeds queries only.
    const runsJobs = !config.queue.redisUrl || options.runWorker;
    const threads = config.embedder.kind === 'use-lite' && runsJobs ? config.embedThreads : 0;
    const pool = threads > 0 ? new EmbedderPool(config.embedder, threads, embedder.id, embedder.dims) : undefined;
    await pool?.ready();
    const embeddings = new EmbeddingService(embedder, {
      queryCacheSize: config.search.queryCacheSize,
      ...(pool && { documentEmbedder: pool, concurrency: pool.threads }),
    });
    // The indexer needs the engine's view of the stored space; the engine is built right after.
    let engine: Engine | undefined;
    const indexer = createIndexer({
      store,
      events,
      recommender,
      embeddings,
      space,
      storedSpace: () => engine?.storedSpace ?? storedSpace,
      onReindexed: (s) => engine?.markReindexed(s),
      logger: logger.child({ component: 'indexer' }),
      writeBatch: config.indexing.writeBatch,
      maxCommitsBetweenMaintenance: config.indexing.maxCommitsBetweenCompactions,
      ...(options.optimizeDelayMs !== undefined && { optimizeDelayMs: options.optimizeDelayMs }),
    });
    const queue: JobQueue = config.queue.redisUrl
      ? new BullQueue({ redisUrl: config.queue.redisUrl, prefix: config.queue.prefix, ...(options.retry && { retry: options.retry }) })
      : await InlineQueue.open({
          handler: indexer.handle,
          concurrency: config.queue.concurrency,
          journalPath: config.queue.journalPath,
          logger: logger.child({ component: 'queue' }),
          ...(options.retry && { retry: options.retry }),
        });
    engine = new Engine(config, logger, store, events, embeddings, space, storedSpace, indexer, queue, recommender, ranking);
    if (config.queue.redisUrl && options.runWorker) {
      engine.worker = startBullWorker({
        redisUrl: config.queue.redisUrl,
        prefix: config.queue.prefix,
        concurrency: config.queue.concurrency,
        handler: indexer.handle,
        logger: logger.child({ component: 'worker' }),
        lockDurationMs: config.queue.lockDurationMs,
      });
    }
    return engine;
  }

  private async deps(): Promise<SearchDeps> {
    if (this.reindexMessage) {
      // Another process (a worker's reindex) may have rebuilt the store since.
      const stored = (await this.store.stats()).space;
      if (stored) this.markReindexed(stored);
      if (this.reindexMessage) throw new ReindexRequiredError(this.reindexMessage);
    }
    return {
      store: this.store,
      events: this.events,
      embeddings: this.embeddings,
      scorer: this.ranking.scorer,
      features: this.ranking.features,
      settings: this.config.search,
    };
  }

  /** Runs the search pipeline; `timings` (ms per stage) feed the Server-Timing header and metrics. */
  async search(input: SearchInput, signal?: AbortSignal): Promise<SearchOutcome> {
    const deps = await this.deps();
    const user = input.userId ? await this.shopper(input.userId) : undefined;
    const ctx = await runPipeline(SEARCH_STAGES, { ...input, user, now: new Date(), queryId: randomUUID() }, deps, signal);
    this.servedLog?.record(ctx, 'search');
    return outcomeOf(ctx);
  }

  async similar(id: string, input: Omit<SearchInput, 'query'> & { mode?: 'content' | 'behavior' | 'blend' }, signal?: AbortSignal): Promise<SearchOutcome> {
    const deps = await this.deps();
    const user = input.userId ? await this.shopper(input.userId) : undefined;
    const ctx = await runPipeline(SIMILAR_STAGES, { ...input, user, query: '', seedId: id, now: new Date(), queryId: randomUUID() }, deps, signal);
    this.servedLog?.record(ctx, 'similar');
    return outcomeOf(ctx);
  }

  /** A named shopper's affinity and behaviour vector; an unknown one is just an id. */
  private async shopper(userId: string): Promise<{ id: string; affinity: UserAffinity; vector: Float32Array | undefined }> {
    const [affinity, vectors] = await Promise.all([this.events.userAffinity(userId), this.store.getUsers([userId])]);
    return { id: userId, affinity, vector: vectors.get(userId) };
  }

  /**
   * A user's feed: the nearest coupons to their behaviour vector (stored, or computed now from
   * their recent coupons), never one they redeemed or dismissed; a user the recommender cannot
   * place gets the most engaged-with coupons under the filter (near them when lat/lon are given).
   */
  async recommend(userId: string, input: Omit<SearchInput, 'query'> & { recentQuery?: string | undefined }, signal?: AbortSignal): Promise<SearchOutcome> {
    const deps = await this.deps();
    const user = await this.shopper(userId);
    const { affinity } = user;
    if (!user.vector && this.recommender && affinity.recent.length) user.vector = await this.recommender.userVectorFromRecent(userId, affinity.recent, this.store);
    const filter = allOf(input.filter, affinity.excluded.length ? { not: { id: affinity.excluded.slice(0, 200) } } : undefined);
    const known = this.recommender ? user.vector : undefined;
    // A recent query is context for a user the model cannot place; a known user's feed is their vector.
    const query = known ? '' : (input.recentQuery ?? '');
    const ctx = await runPipeline(RECOMMEND_STAGES, { ...input, filter, query, userVector: known, user, now: new Date(), queryId: randomUUID() }, deps, signal);
    this.servedLog?.record(ctx, 'feed');
    return outcomeOf(ctx);
  }

  async getCoupon(id: string): Promise<Coupon> {
    const found = (await this.store.get([id])).get(id);
    if (!found) throw new NotFoundError('coupon', id);
    return found.coupon;
  }

  /**
   * Queues one upsert job per coupon; returns the job ids. `requestId` follows the jobs into the
   * worker's logs. Past QUEUE_MAX_DEPTH unfinished jobs the whole batch is refused (503 with
   * Retry-After) before anything is queued, so a loader slows down instead of the queue growing.
   */
  async upsertCoupons(coupons: readonly Coupon[], requestId?: string): Promise<string[]> {
    await this.admit(coupons.length);
    return this.queue.enqueue(coupons.map((coupon): IndexJob => ({ type: 'upsert', coupon, requestId })));
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
   * Stores interaction events (a replayed event id changes nothing) and has the counters updated:
   * by a queue job when events live in PostgreSQL (any worker can run it), inline for the
   * embedded file store, which belongs to this process alone.
   */
  async recordEvents(events: readonly CouponEvent[], requestId?: string): Promise<{ accepted: number; duplicates: number; job_id?: string }> {
    const { inserted, duplicates } = await this.events.append(events);
    if (inserted.length === 0) return { accepted: 0, duplicates: duplicates.length };
    if (this.events.kind === 'file') {
      await this.indexer.handle({ type: 'counters', eventIds: inserted }, { progress: async () => undefined });
      return { accepted: inserted.length, duplicates: duplicates.length };
    }
    const [jobId] = await this.queue.enqueue([{ type: 'counters', eventIds: inserted, requestId }]);
    return { accepted: inserted.length, duplicates: duplicates.length, job_id: jobId! };
  }

  async job(id: string): Promise<JobInfo> {
    const info = await this.queue.get(id);
    if (!info) throw new NotFoundError('job', id);
    return info;
  }

  async readiness(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    const probe = async (name: string, fn: () => Promise<string | undefined>) => {
      try {
        const detail = await fn();
        checks[name] = { ok: true, ...(detail && { detail }) };
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    };
    if (this.draining) checks.shutdown = { ok: false, detail: 'shutting down: finishing in-flight requests and jobs' };
    await Promise.all([
      probe('store', async () => {
        const s = await this.store.stats();
        return `${this.store.kind}: ${s.count} coupons${s.annIndexed ? ', ANN index' : ', exact search'}`;
      }),
      probe('embedder', async () => describeSpace(this.space)),
      // A probe runs every few seconds: a ping, not a count over the whole event table.
      probe('events', async () => {
        await this.events.ping();
        return this.events.kind;
      }),
      probe('ranker', async () => this.ranking.detail),
      probe('recommender', async () => (this.recommender ? `two-tower ${this.recommender.version}` : 'no model loaded: feeds use popularity')),
      probe('queue', async () => {
        await this.queue.ping();
        return this.queue.kind;
      }),
      probe('vector_space', async () => {
        await this.deps();
        return undefined;
      }),
    ]);
    return { ready: Object.values(checks).every((c) => c.ok), checks };
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
    await Promise.all(this.closers.map((c) => c()));
    await this.servedLog?.flush();
    await this.worker?.close();
    await this.queue.close();
    await this.indexer.close();
    await this.store.close();
    await this.events.close();
    await this.embeddings.close();
  }

  private markReindexed(space: VectorSpace): void {
    this.storedSpace = space;
    this.checkSpace();
  }

  private checkSpace(): void {
    if (sameSpace(this.storedSpace, this.space)) {
      this.reindexMessage = undefined;
      return;
    }
    const message =
      `the store holds vectors from ${describeSpace(this.storedSpace)} but the embedder is ${describeSpace(this.space)}; ` +
      'search is off until `npm run reindex` (or POST /v1/reindex) rebuilds the vectors';
    if (message !== this.reindexMessage) this.logger.error(message);
    this.reindexMessage = message;
  }
}
