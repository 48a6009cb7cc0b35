/**
 * The benchmarks' way to run the product: the API (and, with Redis, a worker) as their own
 * processes, exactly as `npm start` / `npm run worker` run them, and a loader that sends a catalogue
 * through `POST /v1/coupons/batch` the way a marketplace does, waiting out 503s for their
 * Retry-After. Nothing here writes to the store directly.
 */
import { loadConfig } from '../src/config.ts';
import type { Coupon } from '../src/domain/coupon.ts';
import { createStore } from '../src/store/create-store.ts';
import type { VectorStore } from '../src/store/vector-store.ts';
import { ProgressBar } from '../src/util/progress.ts';
import { spawnTs, waitFor, type Spawned } from '../test/support/processes.ts';

export interface ApiProcess {
  url: string;
  processes: Spawned[];
  /** SIGTERM to every process (graceful: batched writes are flushed), then waits for them. */
  stop(): Promise<void>;
}

/** Starts the API on `env` (DATA_DIR etc.); with `REDIS_URL` and `WORKER_IN_API=false` also a worker. */
export async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const processes: Spawned[] = [];
  const api = spawnTs('src/bin/api.ts', { SEED_SAMPLE: 'false', PORT: '0', LOG_LEVEL: 'info', ...env });
  processes.push(api);
  // The start-up banner on stderr names the URL whatever the log level.
  const url = await waitFor('the API to listen', () => /Coupon search is up at (http:\S+) /.exec(api.output())?.[1], 180_000).catch((error: Error) => {
    api.child.kill('SIGKILL');
    throw new Error(`${error.message}\n${api.output().slice(-2000)}`);
  });
  if (env.REDIS_URL && env.WORKER_IN_API === 'false') {
    const worker = spawnTs('src/bin/worker.ts', { LOG_LEVEL: 'info', ...env });
    processes.push(worker);
    await waitFor('the worker to start', () => worker.output().includes('worker started'), 180_000);
  }
  return {
    url,
    processes,
    async stop() {
      for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
    },
  };
}

/** The value of an unlabelled gauge in the API's /metrics. */
export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await fetch(`${url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Indexing jobs waiting, delayed or running, from /metrics. */
export async function queueDepth(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  let depth = 0;
  for (const m of text.matchAll(/^queue_jobs\{state="(waiting|active|delayed)"\} ([0-9]+)$/gm)) depth += Number(m[2]);
  return depth;
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
  for (;;) {
    const indexed = (await metric(url, 'index_coupons')) ?? 0;
    bar.update(indexed);
    if (loaded && indexed >= coupons.length && (await queueDepth(url)) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await posting;
}

/** The store of a DATA_DIR as the API configures it by default, opened from this process (floors, final checks). */
export function storeFor(dataDir: string): VectorStore {
  return createStore(loadConfig({ DATA_DIR: dataDir }).store);
}
