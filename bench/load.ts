/**
 * Sustained mixed load on the running HTTP server at 100k coupons: the highest request rate the
 * machine holds with p99 under 100 ms, with no errors, against the raw store kNN rate measured in
 * the same run.
 *
 *   npm run bench:load [-- --size 100000 --duration 60 --probe 20 --start 4 | --rate 80]
 *   npm run bench:load -- --data-dir DIR     (a DATA_DIR built earlier, e.g. bench:ingest --keep-dir)
 *
 * The store is built the way a marketplace builds it: the catalogue goes through
 * POST /v1/coupons/batch → queue → indexer on the API, which runs as its own process (as `npm start`
 * runs it, rate limits off: all traffic comes from one address); the load comes from this process.
 *
 * Traffic (autocannon, arrivals spread evenly over each second, see `drive`): per 10 requests 8 searches, 1 similar-coupons and 1
 * event batch (5 events). Search queries are drawn Zipf-like from 500 distinct strings (a few are
 * popular, most are rare; a third carry a category or radius filter), as real traffic repeats.
 * Warm-up: each distinct query once, as a long-running server has seen them (its query-embedding
 * cache is warm). Probing: rates grow ×1.25 for `--probe` seconds each until p99 ≥ 100 ms or an error twice in a row, then
 * the gap between the last rate that held and the first that failed is bisected to within 5 %; the
 * best rate is then held for `--duration` seconds, stepping down 5 % until it holds. After a run
 * that failed, the next one starts 10 s later, once the server has drained what it left behind.
 * Floor: the store's own kNN (k=10, validity filter) on 16 concurrent callers for 10 s, no HTTP.
 * Output: a markdown table, then one JSON line.
 */
import autocannon from 'autocannon';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { servableAt } from '../src/domain/filter.ts';
import { generateCatalogue, SAMPLE_CATEGORIES, SAMPLE_CITIES } from '../src/sample/catalogue.ts';
import type { VectorStore } from '../src/store/vector-store.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { pick, seededRandom } from '../src/util/random.ts';
import { benchApiEnv, configuredEmbedder, loadThroughApi, scrape, startApi, storeFor } from './api-process.ts';
import { QUERY_THINGS as THINGS, QUERY_WORDS as WORDS, fmt } from './lib.ts';

const options = parseCliArgs();
const SIZE = Number(options.size ?? 100_000);
const DURATION = Number(options.duration ?? 60);
const PROBE = Number(options.probe ?? 20);
const START = Number(options.start ?? 4);
/** Hold this rate for `--duration` seconds without probing (stepping down only if it fails). */
const RATE = options.rate === undefined ? undefined : Number(options.rate);
const P99_BUDGET_MS = 100;
const SETTLE_MS = 10_000;

function searchPaths(n: number): string[] {
  const rand = seededRandom(5);
  return Array.from({ length: n }, (_, i) => {
    const q = encodeURIComponent(`${pick(rand, WORDS)} ${pick(rand, THINGS)}${i % 7 === 0 ? ` ${i}` : ''}`);
    const city = pick(rand, SAMPLE_CITIES);
    const filter = i % 3 === 1 ? `&category=${pick(rand, SAMPLE_CATEGORIES)}` : i % 3 === 2 ? `&lat=${city.lat}&lon=${city.lon}&radius_km=25` : '';
    return `/v1/search?q=${q}${filter}&limit=10`;
  });
}

interface LoadResult {
  rate: number;
  seconds: number;
  requests: number;
  errors: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  achieved_rps: number;
}

/**
 * Drives `rate` requests a second for `seconds`. autocannon's own rate limit sends each second's
 * quota back to back at the start of the second (a burst of `rate` requests every second), so
 * arrivals are spread instead: `rate` single-connection autocannon instances at 1 request a
 * second each, started 1/rate s apart. Latencies are collected from every response.
 */
async function drive(base: string, rate: number, seconds: number, ids: string[]): Promise<LoadResult> {
  const searches = searchPaths(500);
  // Zipf-like: index ~ floor(n · u²) makes low indexes (popular queries) far more frequent.
  let state = 1;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const zipf = () => searches[Math.floor(searches.length * next() ** 2)]!;
  let events = 0;
  const search: autocannon.Request = { method: 'GET', setupRequest: (req) => ({ ...req, path: zipf() }) };
  const similar: autocannon.Request = {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/v1/coupons/${ids[Math.floor(next() * ids.length)]}/similar?limit=6` }),
  };
  const eventBatch: autocannon.Request = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({
      ...req,
      path: '/v1/events',
      body: JSON.stringify({
        events: Array.from({ length: 5 }, (_, k) => ({
          event_id: `load-${rate}-${++events}-${k}`,
          user_id: `u-${events % 500}`,
          coupon_id: ids[(events * 7 + k) % ids.length],
          type: k === 0 ? 'click' : 'impression',
          ts: new Date().toISOString(),
          position: k,
        })),
      }),
    }),
  };
  // Per 10 requests: 8 searches, 1 similar, 1 event batch; each instance starts at another point of the cycle.
  const cycle = [search, search, search, search, similar, search, search, search, search, eventBatch];
  const latencies: number[] = [];
  let non2xx = 0;
  const runs = await Promise.all(
    Array.from(
      { length: rate },
      (_, k) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          setTimeout(
            () => {
              const requests = [...cycle.slice(k % 10), ...cycle.slice(0, k % 10)];
              const instance = autocannon({ url: base, connections: 1, overallRate: 1, duration: seconds, requests, timeout: 10 }, (error, result) =>
                error ? reject(error) : resolve(result),
              );
              instance.on('response', (_client, status, _bytes, ms) => {
                latencies.push(ms);
                if (status < 200 || status >= 300) non2xx++;
              });
            },
            (k / rate) * 1000,
          );
        }),
    ),
  );
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return {
    rate,
    seconds,
    requests: sorted.length,
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx,
    latency: { p50: at(50), p90: at(90), p99: at(99), max: sorted.at(-1) ?? Number.NaN },
    achieved_rps: sorted.length / seconds,
  };
}

/**
 * A run that overloaded the server leaves work behind it (requests still queued, the served-list
 * log and events to write, garbage to collect): the next run starts after it has drained.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

const holds = (r: LoadResult) => r.errors === 0 && r.non2xx === 0 && r.latency.p99 < P99_BUDGET_MS && r.achieved_rps >= 0.95 * r.rate;

/** Coupons that stay servable through the run: the targets of similar-coupon and event requests. */
async function servableIds(store: VectorStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const batch of store.scan(5000)) {
    for (const { coupon: c } of batch) if (Date.parse(c.valid_until) > Date.now() + 86_400_000 && c.status === 'active') ids.push(c.id);
    if (ids.length >= 2000) break;
  }
  return ids.slice(0, 2000);
}

async function main(): Promise<void> {
  const dataDir = options['data-dir'] ? path.resolve(options['data-dir']) : undefined;
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'bench-load-')));
  // The API as its own process, as `npm start` runs it; the load comes from this one.
  const server = await startApi(benchApiEnv(dir, options.ranker));
  try {
    const base = server.url;
    if (!dataDir) await loadThroughApi(base, generateCatalogue({ size: SIZE, seed: 7, anchor: new Date() }));
    const size = (await scrape(base)).gauge('index_coupons') ?? SIZE;

    // Floor: raw store kNN throughput on the same data dir, 16 concurrent callers, no HTTP, no embedding.
    const store = storeFor(dir);
    const { embedder, space } = await configuredEmbedder();
    await store.open(space);
    const ids = await servableIds(store);
    const queryVectors = await embedder.embed(searchPaths(200).map((p) => decodeURIComponent(/q=([^&]*)/.exec(p)![1]!)));
    await embedder.close();
    const filter = servableAt(new Date());
    let knnDone = 0;
    const until = performance.now() + 10_000;
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = w; performance.now() < until; i += 16) {
          await store.knn(queryVectors[i % queryVectors.length]!, { k: 10, filter });
          knnDone++;
        }
      }),
    );
    await store.close();
    const knnRate = knnDone / 10;
    process.stderr.write(`store kNN floor: ${knnRate.toFixed(1)} queries/s\n`);

    // Warm-up: every distinct query once (a running server's query cache holds them), some similar.
    for (const p of searchPaths(500)) await fetch(base + p).then((r) => r.arrayBuffer());
    for (const id of ids.slice(0, 50)) await fetch(`${base}/v1/coupons/${id}/similar?limit=6`).then((r) => r.arrayBuffer());
    await drive(base, START, 10, ids);
    const probes: LoadResult[] = [];
    // A short probe's p99 is a handful of requests: one slow GC can fail it, so a rate fails only twice in a row.
    const probe = async (rate: number): Promise<boolean> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await drive(base, rate, PROBE, ids);
        probes.push(r);
        process.stderr.write(`probe ${rate} req/s: p99 ${r.latency.p99.toFixed(1)} ms, errors ${r.errors + r.non2xx}, achieved ${r.achieved_rps.toFixed(1)}\n`);
        if (holds(r)) return true;
        await settle();
      }
      return false;
    };
    // Rates grow ×1.25 until one fails; then the gap between the last that held and the first that
    // failed is halved until it is within 5 %, so the result is not a step of the ladder.
    let good = RATE ?? 0;
    let bad = START;
    while (RATE === undefined && (await probe(bad))) [good, bad] = [bad, Math.max(bad + 1, Math.round(bad * 1.25))];
    while (RATE === undefined && good > 0 && bad - good > Math.max(1, 0.05 * good)) {
      const mid = Math.round((good + bad) / 2);
      if (await probe(mid)) good = mid;
      else bad = mid;
    }
    let target = good || START;
    let sustained: LoadResult;
    for (;;) {
      sustained = await drive(base, target, DURATION, ids);
      process.stderr.write(
        `sustained ${target} req/s for ${DURATION} s: p99 ${sustained.latency.p99.toFixed(1)} ms, errors ${sustained.errors + sustained.non2xx}\n`,
      );
      if (holds(sustained) || target <= 1) break;
      await settle();
      target = Math.max(1, Math.floor(target * 0.95));
    }
    const s = sustained;
    console.log(
      `\n### Mixed load at ${size.toLocaleString('en')} coupons (80 % search, 10 % similar, 10 % events), ${os.cpus().length} cores, evenly spread arrivals\n`,
    );
    console.log('| sustained rate | duration | requests | errors | p50 | p90 | p99 | max (ms) | store kNN floor | rate ÷ floor |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${s.rate} req/s | ${s.seconds} s | ${s.requests} | ${s.errors + s.non2xx} | ${fmt(s.latency.p50)} | ${fmt(s.latency.p90)} | ${fmt(s.latency.p99)} | ${fmt(s.latency.max)} | ${knnRate.toFixed(1)} q/s | ${(s.rate / knnRate).toFixed(2)} |`,
    );
    console.log(
      `\nprobes (${PROBE} s each): ${probes.map((p) => `${p.rate} req/s → p99 ${fmt(p.latency.p99)} ms${p.errors + p.non2xx ? `, ${p.errors + p.non2xx} errors` : ''}`).join('; ')}`,
    );
    console.log(
      JSON.stringify({
        benchmark: 'load',
        size,
        built: dataDir ? `existing store in ${dataDir}` : 'through the API',
        p99_budget_ms: P99_BUDGET_MS,
        sustained: s,
        knn_floor_qps: knnRate,
        ratio: s.rate / knnRate,
        probes,
      }),
    );
  } finally {
    await server.stop();
    if (!dataDir) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
