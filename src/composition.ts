import path from 'node:path';
import type { Config } from './config.ts';
import { createEmbedder, createQueryEmbedders } from './embed/create-embedder.ts';
import { CatalogueVocabulary } from './search/catalogue-vocabulary.ts';
import { PastQueryMemory } from './ranking/past-queries.ts';
import { StaticVectorEmbedder } from './embed/static-vectors/static-vector-embedder.ts';
import { EmbedderPool } from './embed/embedder-pool.ts';
import { EmbeddingService } from './embed/embedding-service.ts';
import { Engine } from './engine.ts';
import { createDefinitionStore } from './definitions/create-definition-store.ts';
import { createEventStore } from './events/create-event-store.ts';
import { ruleCache } from './rules/rule.ts';
import { synonymCache } from './synonyms/synonym-set.ts';
import { BullQueue, startBullWorker } from './indexing/bullmq-queue.ts';
import { createIndexer } from './indexing/handler.ts';
import { InlineQueue } from './indexing/inline-queue.ts';
import type { JobQueue, RetryPolicy } from './indexing/queue.ts';
import type { Logger } from './log.ts';
import { loadRanking, type Ranking } from './ranking/load-ranking.ts';
import type { ExperimentArm, RankerExperiment } from './search/context.ts';
import { RecommenderService } from './recommend/recommender-service.ts';
import { createStore } from './store/create-store.ts';
import { VectorSpaceGuard } from './store/vector-space-guard.ts';
import { spaceOf } from './store/vector-store.ts';

export interface EngineOptions {
  config: Config;
  logger: Logger;
  /** Run indexing jobs in this process (always true for the inline queue). */
  runWorker: boolean;
  /** Override for tests (short backoff). */
  retry?: RetryPolicy;
  /** Override of the quiet time before the last index refresh after writes (tests: short). */
  quietRefreshMs?: number;
  /** The time searches are judged at (tests drive rule windows with it). @defaultValue the system clock */
  clock?: () => Date;
  /** Whether this process answers searches (a worker or a CLI does not, so it loads no serving index). @defaultValue true */
  servesSearches?: boolean;
}

/**
 * The composition root: the one function that turns config into running adapters (embedder,
 * store, event store, queue, models) and hands them to the engine. Every entry point (API, worker,
 * CLIs, tests) starts here; nothing else constructs an adapter.
 */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { config, logger } = options;
  const embedder = createEmbedder(config.embedder);
  await embedder.ready();
  const space = spaceOf(embedder);
  const store = createStore(config.store, options.servesSearches === false ? undefined : config.servingIndex);
  const storedSpace = await store.open(space);
  const events = createEventStore(config.events);
  await events.open();
  const loaded = config.recommenderDir ? await RecommenderService.load(config.recommenderDir, space) : undefined;
  const recommender = loaded instanceof RecommenderService ? loaded : undefined;
  const experiment = config.rankerExperiment ? await loadExperiment(config.rankerExperiment, logger) : undefined;
  // In an experiment, arm a is the ranker of record: its features are the ones explained and logged.
  const ranking = experiment ? experiment.ranking : await loadRanking(config.rankerDir, logger);
  if (loaded && !(loaded instanceof RecommenderService)) logger.warn({ dir: config.recommenderDir }, `${loaded.unusable}; feeds fall back to popularity`);
  // Queries embed on this thread (latency); documents on a pool of threads (throughput). Only
  // USE-lite needs the pool: TF.js wasm is single-threaded under Node, while ONNX Runtime
  // (transformers.js) has its own thread pool and crashes V8 when loaded in worker threads.
  // An API process whose jobs run in separate workers embeds queries only.
  const runsJobs = !config.queue.redisUrl || options.runWorker;
  const threads = config.embedder.kind === 'use-lite' && runsJobs ? config.embedThreads : 0;
  const pool = threads > 0 ? new EmbedderPool(config.embedder, threads, embedder.id, embedder.dims) : undefined;
  await pool?.ready();
  const queries = await createQueryEmbedders(config.embedder, embedder);
  if (queries.unused) logger.warn(queries.unused);
  if (queries.bridge) logger.info({ bridge: `${queries.bridge.source} → ${queries.bridge.target}`, paraphrase: !!queries.paraphrases }, 'query bridge loaded');
  const embeddings = new EmbeddingService(embedder, {
    queryEmbedder: queries.queries,
    ...(queries.paraphrases && { paraphraseEmbedder: queries.paraphrases }),
    queryCacheSize: config.search.queryCacheSize,
    ...(pool && { documentEmbedder: pool, concurrency: pool.threads }),
  });
  const spaceGuard = new VectorSpaceGuard(space, storedSpace, logger);
  const indexer = createIndexer({
    store,
    events,
    recommender,
    embeddings,
    spaceGuard,
    logger: logger.child({ component: 'indexer' }),
    writeBatch: config.indexing.writeBatch,
    maxCommitsBetweenMaintenance: config.indexing.maxCommitsBetweenCompactions,
    maxRowsBetweenMaintenance: config.indexing.maxRowsBetweenCompactions,
    maintenanceShare: config.indexing.maintenanceShare,
    quietRefreshMs: options.quietRefreshMs ?? config.indexing.quietRefreshMs,
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
  const worker =
    config.queue.redisUrl && options.runWorker
      ? startBullWorker({
          redisUrl: config.queue.redisUrl,
          prefix: config.queue.prefix,
          concurrency: config.queue.concurrency,
          handler: indexer.handle,
          logger: logger.child({ component: 'worker' }),
          lockDurationMs: config.queue.lockDurationMs,
        })
      : undefined;
  // The static embedder's 100,000 English words double as the dictionary of words that are never typos.
  const dictionary = embedder instanceof StaticVectorEmbedder ? (word: string) => embedder.wordTable.rowOf.has(word) : undefined;
  const vocabulary = new CatalogueVocabulary(store, events, logger.child({ component: 'vocabulary' }), dictionary);
  vocabulary.start(config.search.vocabularyRefreshMs);
  const pastQueries = new PastQueryMemory(events, logger.child({ component: 'past-queries' }), options.clock);
  // Only a process that answers searches ranks with it (a worker or a CLI would re-read the log for nothing).
  if (options.servesSearches !== false) pastQueries.start(config.search.pastQueriesRefreshMs);
  const definitions = createDefinitionStore(config);
  await definitions.open();
  const synonyms = synonymCache(definitions, logger.child({ component: 'synonyms' }));
  const rules = ruleCache(definitions, logger.child({ component: 'rules' }));
  await Promise.all([synonyms.start(config.search.definitionsRefreshMs), rules.start(config.search.definitionsRefreshMs)]);
  const parts = {
    config,
    logger,
    store,
    events,
    embeddings,
    spaceGuard,
    indexer,
    queue,
    recommender,
    ranking,
    worker,
    vocabulary,
    pastQueries,
    definitions,
    synonyms,
    rules,
  };
  return new Engine({ ...parts, experiment: experiment?.arms, clock: options.clock ?? (() => new Date()) });
}

/** The two arms of RANKER_EXPERIMENT (a dir, or `fused`), and arm a's ranking. */
async function loadExperiment(dirs: [string, string], logger: Logger): Promise<{ arms: RankerExperiment; ranking: Ranking }> {
  const [a, b] = await Promise.all(dirs.map((dir) => loadRanking(dir === 'fused' ? undefined : dir, logger)));
  const label = (dir: string, ranking: Ranking) => (ranking.scorer.name === 'fused' ? 'fused' : path.basename(dir));
  const arm = (dir: string, ranking: Ranking): ExperimentArm => ({ label: label(dir, ranking), scorer: ranking.scorer, features: ranking.features });
  logger.info({ a: dirs[0], b: dirs[1] }, 'ranker experiment: team-draft interleaving on every search');
  return { arms: { a: arm(dirs[0], a!), b: arm(dirs[1], b!) }, ranking: a! };
}
