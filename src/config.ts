import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one place configuration comes from: environment variables, parsed and validated at start-up.
 * Library code receives the typed `Config` (or the part it needs) and never reads `process.env`.
 * Every variable, its default and meaning is listed in the README's configuration table.
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  /** @defaultValue '127.0.0.1' (Docker sets 0.0.0.0) */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** JSON file of hashed API keys (`npm run keys`); unset: no authentication (local use only). @defaultValue unset */
  API_KEYS_FILE: z.string().min(1).optional(),
  /** Serve without API keys on a non-loopback HOST (otherwise the API refuses to start there without API_KEYS_FILE). @defaultValue false */
  ALLOW_ANONYMOUS: bool.default(false),
  /** With API keys on: let search, similar and feeds answer without a key. @defaultValue false */
  PUBLIC_READS: bool.default(false),
  /** Requests a second per client address (burst: twice that); 0 turns the limit off. @defaultValue 50 */
  RATE_LIMIT_IP_RPS: z.coerce.number().min(0).max(1e6).default(50),
  /** Requests a second per API key (burst: twice that); 0 turns the limit off. @defaultValue 500 */
  RATE_LIMIT_KEY_RPS: z.coerce.number().min(0).max(1e6).default(500),
  /** Events a minute per user under one API key (a minute's worth as burst); over it they are not stored. 0 turns the cap off. @defaultValue 300 */
  EVENTS_PER_USER_PER_MINUTE: int(0, 1e6).default(300),
  /** The audit log of writes (JSON lines; `npm run audit`). @defaultValue DATA_DIR/audit.jsonl */
  AUDIT_LOG: z.string().min(1).optional(),
  /** Trust X-Forwarded-For for the client address (behind a proxy you run). @defaultValue false */
  TRUST_PROXY: bool.default(false),
  /** On SIGTERM, how long to keep serving (reporting not-ready) before closing the listener. @defaultValue 1000 */
  SHUTDOWN_DELAY_MS: int(0, 120_000).default(1000),
  /** A request still running after this is answered 503 and its remaining pipeline stages are cancelled. @defaultValue 10000 */
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** Origins whose pages may call the API from a browser (the sites embedding the widgets), comma-separated; '*' for any. @defaultValue none */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().replace(/\/$/, ''))
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/, error: 'must be origins like https://shop.example.com, comma-separated' })]))),
  /** Where the embedded store and the inline job journal live. @defaultValue './data' */
  DATA_DIR: z.string().min(1).default('./data'),
  /** `embedded`: LanceDB under DATA_DIR; `qdrant`: the Qdrant server at QDRANT_URL. @defaultValue 'embedded' */
  VECTOR_STORE: z.enum(['embedded', 'qdrant']).default('embedded'),
  /** Searches served from every coupon held in memory (`memory`) or by the store itself (`off`). @defaultValue 'auto': memory on the embedded store, off on Qdrant */
  SERVING_INDEX: z.enum(['auto', 'memory', 'off']).default('auto'),
  /** Share of the rows an in-memory kNN scores at least, once past 10,000 rows (its recall knob: 0.2 gives recall@10 ≥ 0.9). @defaultValue 0.2 */
  SERVING_INDEX_PROBE: z.coerce.number().gt(0).max(1).default(0.2),
  /** Required with VECTOR_STORE=qdrant, e.g. http://127.0.0.1:6333 */
  QDRANT_URL: z.string().url().optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),
  /** The alias the engine uses; collections behind it are `<alias>_v<N>`. @defaultValue 'coupons' */
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/)
    .default('coupons'),
  QDRANT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** Decoded coupon rows (document and vectors) each process keeps in memory, by id and version. @defaultValue 100000 */
  STORE_ROW_CACHE: int(0, 100_000_000).default(100_000),
  /** Rows from which the embedded store builds an ANN index (below it, search is exact, at a cost that grows with the table). @defaultValue 5000 */
  ANN_INDEX_THRESHOLD: int(1, 1e9).default(5_000),
  /** Interaction events in PostgreSQL when set (shared by every process); an append-only file in DATA_DIR when unset. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Prefix of the event tables. @defaultValue 'cs_' */
  EVENTS_TABLE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,30}$/)
    .default('cs_'),
  /** BullMQ on this Redis when set; in-process jobs when unset. */
  REDIS_URL: z.string().url().optional(),
  /** Redis key prefix of the queues. @defaultValue 'coupon-search' */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]+$/)
    .default('coupon-search'),
  /** Run an indexing worker inside the API process (set false when workers run separately). @defaultValue true */
  WORKER_IN_API: bool.default(true),
  /**
   * Jobs a worker runs at once. Their embeddings and writes are batched together: enough jobs keep
   * the embedding threads busy while a commit or a compaction runs, and make larger commits (a
   * commit holds at most the jobs in flight). @defaultValue 2000
   */
  WORKER_CONCURRENCY: int(1, 5000).default(2000),
  /** Indexing jobs waiting or running past which coupon writes are refused with 503 and Retry-After (backpressure). @defaultValue 50000 */
  QUEUE_MAX_DEPTH: int(1, 10_000_000).default(50_000),
  /** Rows per store commit at most; writes that arrive while a commit runs go out together in the next. @defaultValue 2000 */
  INDEX_WRITE_BATCH: int(1, 100_000).default(2000),
  /** Commits after which the store is compacted whatever else is going on (the bound on uncompacted fragments). @defaultValue 64 */
  INDEX_MAX_COMMITS_BETWEEN_COMPACTIONS: int(1, 100_000).default(64),
  /** How long a BullMQ job lock lasts: a crashed worker's jobs go back to the queue after this. @defaultValue 30000 */
  WORKER_LOCK_MS: int(1000, 3_600_000).default(30_000),
  /** Text embedder: `static` (SIF-weighted GloVe word vectors, tens of thousands of texts/s), `use-lite` (Universal Sentence Encoder Lite) or `transformers`. @defaultValue 'static' */
  EMBEDDER: z.enum(['static', 'use-lite', 'transformers']).default('static'),
  /** Where the static embedder caches its compiled word table (built from the npm package on first start). @defaultValue '.cache/static-vectors' */
  STATIC_VECTORS_CACHE: z.string().min(1).default('.cache/static-vectors'),
  /** The query bridge (USE-lite → static space, `npm run train:embedder -- --bridge`) that lets static-vector search understand paraphrase; missing or `none`: queries use the static vectors alone. @defaultValue 'models/query-bridge' */
  QUERY_BRIDGE_DIR: z.string().min(1).default('models/query-bridge'),
  /** The bridged sentence vector's weight beside the query's static vector; 0 (the default, chosen by `eval:ranking`) keeps USE-lite off the query path. @defaultValue 0 */
  QUERY_BRIDGE_WEIGHT: z.coerce.number().min(0).max(100).default(0),
  /** When no title holds every query term, retrieve by the query's meaning: USE-lite through the query bridge (a few ms, only for those queries). @defaultValue true */
  PARAPHRASE_RETRIEVAL: bool.default(true),
  /** The paraphrase list's weight in search fusion (when it ran, in the dense list's place). Chosen by `eval:ranking`. @defaultValue 0.5 */
  FUSION_PARAPHRASE_WEIGHT: z.coerce.number().min(0).max(1).default(0.5),
  /** The paraphrase retriever runs only when the words found fewer coupons than this (and none with every query term). @defaultValue 20 */
  PARAPHRASE_MAX_LEXICAL_HITS: int(1, 100_000).default(20),
  /** The static embedder's domain adaptation (`npm run train:embedder`); missing or `none`: the static vectors alone. @defaultValue 'models/embedder' */
  EMBEDDER_ADAPTATION_DIR: z.string().min(1).default('models/embedder'),
  /** Threads that embed documents while indexing with USE-lite (0: the main thread). @defaultValue the number of CPUs, at most 4 */
  EMBED_THREADS: int(0, 64).default(Math.min(4, availableParallelism())),
  /** Hugging Face model id or folder under TRANSFORMERS_LOCAL_PATH. @defaultValue 'Xenova/all-MiniLM-L6-v2' */
  TRANSFORMERS_MODEL: z.string().min(1).default('Xenova/all-MiniLM-L6-v2'),
  /** Folder of local transformers.js models; when set the Hub is never contacted. */
  TRANSFORMERS_LOCAL_PATH: z.string().min(1).optional(),
  /** The trained coupon recommender (two towers + metadata.json); `none` turns it off. @defaultValue 'models/recommender' */
  RECOMMENDER_MODEL_DIR: z.string().min(1).default('models/recommender'),
  /** The learned ranker (model.json + metadata.json + idf.json); missing or `none`: the fused order. @defaultValue 'models/ranker' */
  RANKER_MODEL_DIR: z.string().min(1).default('models/ranker'),
  /** Two rankers to team-draft interleave on every search, `<dir-a>,<dir-b>` (`fused`: the fused order); see GET /v1/analytics/experiment. */
  RANKER_EXPERIMENT: z
    .string()
    .regex(/^[^,]+,[^,]+$/, 'must be two ranker dirs (or "fused"), comma-separated')
    .optional(),
  /** Dense and lexical candidates per search: the depth `eval:ranking` measures the fusion and the ranker at. @defaultValue 100 */
  SEARCH_CANDIDATES: int(10, 2000).default(100),
  /** How search fuses the dense and lexical lists without a learned ranker: `convex` (weighted normalised scores) or `rrf` (weighted reciprocal ranks). Chosen by `eval:ranking`. @defaultValue 'convex' */
  FUSION: z.enum(['convex', 'rrf']).default('convex'),
  /** How `convex` fusion scales each list: `max` divides by the list's best score, `minmax` maps [min, max] to [0, 1]. Chosen by `eval:ranking`. @defaultValue 'max' */
  FUSION_NORMALIZATION: z.enum(['max', 'minmax']).default('max'),
  /** The dense list's weight in search fusion; the lexical list gets 1 minus it. Chosen by `eval:ranking`. @defaultValue 0.1 */
  FUSION_DENSE_WEIGHT: z.coerce.number().min(0).max(1).default(0.1),
  /** Added to the fused score per unit of title match (the share of query terms, and of query bigrams, in the title). Chosen by `eval:ranking`. @defaultValue 0.2 */
  FUSION_MATCH_BOOST: z.coerce.number().min(0).max(10).default(0.2),
  /** The reciprocal rank fusion constant k in 1 / (k + rank). @defaultValue 60 */
  RRF_K: z.coerce.number().min(0).max(10_000).default(60),
  /** How often the catalogue vocabulary behind typo tolerance checks the store for coupons written elsewhere. @defaultValue 30000 */
  VOCABULARY_REFRESH_MS: int(1000, 86_400_000).default(30_000),
  /** How often each process checks for synonym sets (and rules) written by others. */
  DEFINITIONS_REFRESH_MS: int(100, 60_000).default(1000),
  /** How often the memory of what shoppers engaged with after past searches (a ranking feature) is rebuilt from the served-list log. @defaultValue 600000 */
  PAST_QUERIES_REFRESH_MS: int(1000, 86_400_000).default(600_000),
  MAX_PER_MERCHANT: int(1, 1000).default(2),
  MMR_LAMBDA: z.coerce.number().min(0).max(1).default(0.8),
  /** Share of result pages with one random adjacent pair swapped, so logs can show position bias (0 = off). @defaultValue 0 */
  RANK_EXPLORATION: z.coerce.number().min(0).max(1).default(0),
  /** Log every served result list with its features, for training the ranker (npm run train:ranker). @defaultValue true */
  LOG_SERVED_LISTS: bool.default(true),
  QUERY_CACHE_SIZE: int(0, 10_000_000).default(10_000),
  /** @defaultValue 1048576 (1 MiB) */
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  /** Index the generated sample catalogue when the store is empty. @defaultValue true */
  SEED_SAMPLE: bool.default(true),
  SAMPLE_SIZE: int(1, 1_000_000).default(2400),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Env = z.input<typeof envSchema>;
/** The environment variables the configuration reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  server: { port: number; host: string; bodyLimitBytes: number; corsOrigins: string[]; requestTimeoutMs: number; trustProxy: boolean; shutdownDelayMs: number };
  access: { apiKeysFile: string | undefined; allowAnonymous: boolean; publicReads: boolean; ipRps: number; keyRps: number; eventsPerUserPerMinute: number };
  dataDir: string;
  auditLogPath: string;
  /** The in-memory serving index in front of the store, in processes that serve searches (see store/serving). */
  servingIndex: { exactRows: number; probeShare: number; readConsistencyMs: number; reconcileMs: number } | undefined;
  store:
    | { kind: 'embedded'; dir: string; annThreshold: number; readConsistencyMs: number; rowCacheSize: number; knnIndexWhenQuiet: boolean }
    | {
        kind: 'qdrant';
        url: string;
        apiKey: string | undefined;
        collection: string;
        timeoutMs: number;
        batchSize: number;
        concurrency: number;
        attempts: number;
      };
  queue: {
    redisUrl: string | undefined;
    prefix: string;
    workerInApi: boolean;
    concurrency: number;
    lockDurationMs: number;
    journalPath: string;
    maxDepth: number;
  };
  indexing: { writeBatch: number; maxCommitsBetweenCompactions: number; maxRowsBetweenCompactions: number; maintenanceShare: number; quietRefreshMs: number };
  embedder:
    | {
        kind: 'static';
        cacheDir: string;
        adaptationDir: string | undefined;
        queryBridge: { dir: string; weight: number; paraphrase: boolean } | undefined;
      }
    | { kind: 'use-lite' }
    | { kind: 'transformers'; model: string; localModelPath: string | undefined };
  embedThreads: number;
  recommenderDir: string | undefined;
  rankerDir: string | undefined;
  rankerExperiment: [string, string] | undefined;
  search: {
    candidates: number;
    fusion: FusionConfig;
    recommendationFusion: FusionConfig;
    paraphrase: { maxLexicalHits: number };
    vocabularyRefreshMs: number;
    definitionsRefreshMs: number;
    pastQueriesRefreshMs: number;
    mmrLambda: number;
    maxPerMerchant: number;
    nearDuplicateCosine: number;
    exploration: number;
    queryCacheSize: number;
  };
  logServedLists: boolean;
  events: { kind: 'postgres'; url: string; tablePrefix: string } | { kind: 'file'; path: string };
  sample: { seed: boolean; size: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Builds the config from an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.VECTOR_STORE === 'qdrant' && !e.QDRANT_URL) throw new ConfigError('invalid configuration:\n  QDRANT_URL: required when VECTOR_STORE=qdrant');
  const dataDir = path.resolve(e.DATA_DIR);
  const servedFromMemory = e.SERVING_INDEX === 'memory' || (e.SERVING_INDEX === 'auto' && e.VECTOR_STORE === 'embedded');
  return {
    server: {
      port: e.PORT,
      host: e.HOST,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      corsOrigins: e.CORS_ORIGINS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY,
      shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    },
    access: {
      apiKeysFile: e.API_KEYS_FILE ? path.resolve(e.API_KEYS_FILE) : undefined,
      allowAnonymous: e.ALLOW_ANONYMOUS,
      publicReads: e.PUBLIC_READS,
      ipRps: e.RATE_LIMIT_IP_RPS,
      keyRps: e.RATE_LIMIT_KEY_RPS,
      eventsPerUserPerMinute: e.EVENTS_PER_USER_PER_MINUTE,
    },
    dataDir,
    auditLogPath: path.resolve(e.AUDIT_LOG ?? path.join(dataDir, 'audit.jsonl')),
    servingIndex: servedFromMemory ? { exactRows: 10_000, probeShare: e.SERVING_INDEX_PROBE, readConsistencyMs: 1000, reconcileMs: 5000 } : undefined,
    store:
      e.VECTOR_STORE === 'qdrant'
        ? // 256 points per upsert, 2 in flight (more breaks sockets: qdrant-js #58, #92), 4 attempts on 5xx/429/timeouts.
          {
            kind: 'qdrant',
            url: e.QDRANT_URL!,
            apiKey: e.QDRANT_API_KEY,
            collection: e.QDRANT_COLLECTION,
            timeoutMs: e.QDRANT_TIMEOUT_MS,
            batchSize: 256,
            concurrency: 2,
            attempts: 4,
          }
        : {
            kind: 'embedded',
            dir: path.join(dataDir, 'lancedb'),
            annThreshold: e.ANN_INDEX_THRESHOLD,
            readConsistencyMs: 1000,
            rowCacheSize: e.STORE_ROW_CACHE,
            // Searches read the serving index, in every process of the deployment, not LanceDB's kNN index.
            knnIndexWhenQuiet: servedFromMemory,
          },
    queue: {
      redisUrl: e.REDIS_URL,
      prefix: e.QUEUE_PREFIX,
      workerInApi: e.WORKER_IN_API,
      concurrency: e.WORKER_CONCURRENCY,
      lockDurationMs: e.WORKER_LOCK_MS,
      journalPath: path.join(dataDir, 'jobs.jsonl'),
      maxDepth: e.QUEUE_MAX_DEPTH,
    },
    // Compaction takes at most 5 % of the writer's time between the hard bounds; a last refresh 5 s after writes stop.
    indexing: {
      writeBatch: e.INDEX_WRITE_BATCH,
      maxCommitsBetweenCompactions: e.INDEX_MAX_COMMITS_BETWEEN_COMPACTIONS,
      // Each merge-insert reads every row its `id` index does not cover yet, so the rows written
      // since the last compaction make each commit dearer: eight full commits' worth at most.
      maxRowsBetweenCompactions: 8 * e.INDEX_WRITE_BATCH,
      maintenanceShare: 0.05,
      quietRefreshMs: 5000,
    },
    embedder: embedderConfig(e),
    search: {
      candidates: e.SEARCH_CANDIDATES,
      fusion: {
        method: e.FUSION,
        normalization: e.FUSION_NORMALIZATION,
        rrfK: e.RRF_K,
        weights: { dense: e.FUSION_DENSE_WEIGHT, lexical: 1 - e.FUSION_DENSE_WEIGHT, paraphrase: e.FUSION_PARAPHRASE_WEIGHT, behavior: 1, popularity: 1 },
        matchBoost: { terms: e.FUSION_MATCH_BOOST, bigrams: e.FUSION_MATCH_BOOST },
      },
      paraphrase: { maxLexicalHits: e.PARAPHRASE_MAX_LEXICAL_HITS },
      vocabularyRefreshMs: e.VOCABULARY_REFRESH_MS,
      definitionsRefreshMs: e.DEFINITIONS_REFRESH_MS,
      pastQueriesRefreshMs: e.PAST_QUERIES_REFRESH_MS,
      recommendationFusion: {
        method: 'rrf',
        rrfK: e.RRF_K,
        weights: { dense: 1, lexical: 1, paraphrase: 1, behavior: 1, popularity: 1 },
        matchBoost: { terms: 0, bigrams: 0 },
      },
      mmrLambda: e.MMR_LAMBDA,
      maxPerMerchant: e.MAX_PER_MERCHANT,
      nearDuplicateCosine: 0.95,
      exploration: e.RANK_EXPLORATION,
      queryCacheSize: e.QUERY_CACHE_SIZE,
    },
    logServedLists: e.LOG_SERVED_LISTS,
    embedThreads: e.EMBED_THREADS,
    recommenderDir: e.RECOMMENDER_MODEL_DIR === 'none' ? undefined : path.resolve(e.RECOMMENDER_MODEL_DIR),
    rankerDir: e.RANKER_MODEL_DIR === 'none' ? undefined : path.resolve(e.RANKER_MODEL_DIR),
    rankerExperiment: e.RANKER_EXPERIMENT?.split(',').map((d) => (d.trim() === 'fused' ? 'fused' : path.resolve(d.trim()))) as [string, string] | undefined,
    events: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, tablePrefix: e.EVENTS_TABLE_PREFIX }
      : { kind: 'file', path: path.join(dataDir, 'events.jsonl') },
    sample: { seed: e.SEED_SAMPLE, size: e.SAMPLE_SIZE },
    logLevel: e.LOG_LEVEL,
  };
}

/** Matches search's FusionSettings (config imports nothing from the engine's areas). */
interface FusionConfig {
  method: 'convex' | 'rrf';
  normalization?: 'max' | 'minmax';
  rrfK: number;
  weights: { dense: number; lexical: number; paraphrase: number; behavior: number; popularity: number };
  matchBoost: { terms: number; bigrams: number };
}

function embedderConfig(e: z.infer<typeof envSchema>): Config['embedder'] {
  switch (e.EMBEDDER) {
    case 'static':
      return {
        kind: 'static',
        cacheDir: path.resolve(e.STATIC_VECTORS_CACHE),
        adaptationDir: e.EMBEDDER_ADAPTATION_DIR === 'none' ? undefined : path.resolve(e.EMBEDDER_ADAPTATION_DIR),
        queryBridge:
          e.QUERY_BRIDGE_DIR === 'none'
            ? undefined
            : { dir: path.resolve(e.QUERY_BRIDGE_DIR), weight: e.QUERY_BRIDGE_WEIGHT, paraphrase: e.PARAPHRASE_RETRIEVAL },
      };
    case 'use-lite':
      return { kind: 'use-lite' };
    case 'transformers':
      return { kind: 'transformers', model: e.TRANSFORMERS_MODEL, localModelPath: e.TRANSFORMERS_LOCAL_PATH };
  }
}
