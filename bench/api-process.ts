/**
 * The benchmarks' way to run the product: the API (and, with Redis, a worker) as their own
 * processes, exactly as `npm start` / `npm run worker` run them, and a loader that sends a catalogue
 * through `POST /v1/coupons/batch` the way a marketplace does, waiting out 503s for their
 * Retry-After. Nothing here writes to the store directly.
 */
import { writeFileSync } from 'node:fs';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.ts';
import type { Coupon } from '../src/domain/coupon.ts';
import { createEmbedder } from '../src/embed/create-embedder.ts';
import type { Embedder } from '../src/embed/embedder.ts';
import { createStore } from '../src/store/create-store.ts';
import { type VectorSpace, type VectorStore, spaceOf } from '../src/store/vector-store.ts';
import { ProgressBar } from '../src/util/progress.ts';
import { spawnTs, waitFor, type Spawned } from '../test/support/processes.ts';

export interface ApiProcess {
  url: string;
  processes: Spawned[];
  /** SIGTERM to every process (graceful: batched writes are flushed), then waits for them. */
  stop(): Promise<void>;
}

/**
 * The environment the search and load benchmarks run the API with: the defaults, with rate limits
 * off (one client sends everything) and no learned ranker unless one is named.
 */
export function benchApiEnv(dataDir: string, rankerDir: string | undefined): Record<string, string> {
  return { DATA_DIR: dataDir, LOG_LEVEL: 'warn', RATE_LIMIT_IP_RPS: '0', RATE_LIMIT_KEY_RPS: '0', RANKER_MODEL_DIR: rankerDir ?? 'none' };
}

/** Variables each benchmark sets for its own run, never taken from the shell. */
const PER_RUN = new Set(['PORT', 'HOST', 'DATA_DIR', 'REDIS_URL', 'WORKER_IN_API', 'QUEUE_PREFIX', 'SEED_SAMPLE']);

/**
 * Starts the API on `env` (DATA_DIR etc.); with `REDIS_URL` and `WORKER_IN_API=false` also a worker.
 * `BENCH_NODE_ARGS` (for example `--cpu-prof --cpu-prof-dir=/tmp/prof`) are given to their Node
 * processes, to profile the server under the benchmark's load; `BENCH_SERVER_LOG` names a file that
 * gets what they printed when they stop (with `BENCH_NODE_ARGS=--trace-gc`, their GC pauses). The configuration the benchmark
 * itself runs under (EMBEDDER…) is theirs too, below what `env` sets: the floor it measures in its
 * own process must be the model the server runs.
 */
export async function startApi(benchEnv: Record<string, string>): Promise<ApiProcess> {
  const inherited = Object.fromEntries(
    CONFIG_VARIABLES.flatMap((name) => (process.env[name] === undefined || PER_RUN.has(name) ? [] : [[name, process.env[name]!]])),
  );
  const env = { ...inherited, LOG_LEVEL: 'info', ...benchEnv };
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const processes: Spawned[] = [];
  const api = spawnTs('src/bin/api.ts', { SEED_SAMPLE: 'false', PORT: '0', ...env }, [], nodeArgs);
  processes.push(api);
  // The start-up banner on stderr names the URL whatever the log level.
  const url = await waitFor('the API to listen', () => /Coupon search is up at (http:\S+) /.exec(api.output())?.[1], 180_000).catch((error: Error) => {
    api.child.kill('SIGKILL');
    throw new Error(`${error.message}\n${api.output().slice(-2000)}`);
  });
  if (benchEnv.REDIS_URL && benchEnv.WORKER_IN_API === 'false') {
    const worker = spawnTs('src/bin/worker.ts', env, [], nodeArgs);
    processes.push(worker);
    await waitFor('the worker to start', () => worker.output().includes('worker started'), 180_000);
  }
  return {
    url,
    processes,
    async stop() {
      for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      if (process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, processes.map((p) => p.output()).join('\n'));
    },
  };
}

/** One read of the API's /metrics. */
export interface Scrape {
  /** An unlabelled gauge's value. */
  gauge(name: string): number | undefined;
  /** A labelled gauge as `{ label value: value }`. */
  labelled(name: string, label: string): Record<string, number>;
  /** Indexing jobs waiting, delayed or running. */
  queueDepth: number;
}

export async function scrape(url: string): Promise<Scrape> {
  const text = await fetch(`${url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const labelled = (name: string, label: string) =>
    Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{${label}="(\\w+)"\\} ([0-9.e+]+)$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
  const jobs = labelled('queue_jobs', 'state');
  return {
    gauge: (name) => {
      const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    },
    labelled,
    queueDepth: (jobs.waiting ?? 0) + (jobs.active ?? 0) + (jobs.delayed ?? 0),
  };
}

/**
 * Polls /metrics (one read a poll) until `count` coupons are stored, `loaded()` says every batch
 * was accepted, and no job is left; `onIndexed` sees the stored count at each poll.
 */
export async function waitUntilIndexed(url: string, count: number, loaded: () => boolean, onIndexed: (indexed: number) => void, everyMs = 250): Promise<void> {
  let indexed = 0;
  for (;;) {
    const s = await scrape(url);
    indexed = s.gauge('index_coupons') ?? indexed;
    onIndexed(indexed);
    if (loaded() && indexed >= count && s.queueDepth === 0) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Posts batches in order, waiting out each 503/429 for its Retry-After; returns how many were refused. */
export async function postBatches(url: string, batches: Coupon[][], onAccepted: (n: number) => void = () => undefined): Promise<{ retries: number }> {
  let retries = 0;
  for (const coupons of batches) {
    for (;;) {
      const res = await fetch(`${url}/v1/coupons/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ coupons }),
      });
      const text = await res.text();
      if (res.status === 202) break;
      if (res.status === 503 || res.status === 429) {
        retries++;
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        continue;
      }
      throw new Error(`POST /v1/coupons/batch answered ${res.status}: ${text.slice(0, 300)}`);
    }
    onAccepted(coupons.length);
  }
  return { retries };
}

/** Loads a catalogue through the API and waits until every coupon is stored and the queue is empty. */
export async function loadThroughApi(url: string, coupons: Coupon[], batch = 1000): Promise<void> {
  const batches: Coupon[][] = [];
  for (let i = 0; i < coupons.length; i += batch) batches.push(coupons.slice(i, i + batch));
  let loaded = false;
  const posting = postBatches(url, batches).then(() => (loaded = true));
  const bar = new ProgressBar(`indexing ${coupons.length} coupons through the API`, coupons.length);
  await waitUntilIndexed(
    url,
    coupons.length,
    () => loaded,
    (indexed) => bar.update(indexed),
    500,
  );
  await posting;
}

/**
 * Waits until the store's upkeep after a load is over: a maintenance run (compaction, index
 * refresh; the last one starts 5 s after the last write) has finished since the load, none is
 * running, and neither the finished-run count nor the fragment count has changed for `stableMs`. A latency benchmark
 * started earlier measures searches beside a compaction.
 */
export async function waitUntilSettled(url: string, stableMs = 10_000): Promise<void> {
  const read = async () => {
    const s = await scrape(url);
    const writer = s.labelled('index_writer', 'counter');
    return { runs: writer.maintenanceRuns ?? 0, maintaining: writer.maintaining ?? 0, fragments: s.gauge('index_fragments') ?? 0 };
  };
  const before = await read();
  let last = before;
  let since = Date.now();
  const started = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await read();
    if (now.runs !== last.runs || now.fragments !== last.fragments) {
      last = now;
      since = Date.now();
    }
    // No run may be due when the last write's commit ran maintenance already: then 30 s of calm do.
    const ranSince = now.runs > before.runs || Date.now() - started > 30_000;
    if (ranSince && now.maintaining === 0 && Date.now() - since >= stableMs) return;
  }
}

/** The store of a DATA_DIR as the API configures it by default, opened from this process (floors, final checks). */
export function storeFor(dataDir: string): VectorStore {
  return createStore(loadConfig({ DATA_DIR: dataDir }).store);
}

/** The document embedder the API runs with under this environment (EMBEDDER etc.), ready, and its vector space. */
export async function configuredEmbedder(): Promise<{ embedder: Embedder; space: VectorSpace }> {
  const embedder = createEmbedder(loadConfig(process.env).embedder);
  await embedder.ready();
  return { embedder, space: spaceOf(embedder) };
}
