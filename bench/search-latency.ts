/**
 * Search latency over HTTP at 10k and 100k coupons, per pipeline stage, against the raw store kNN
 * floor measured in the same run on the same queries.
 *
 *   npm run bench:search [-- --sizes 10000,100000 --queries 300]
 *
 * Inputs: the seeded sample catalogue (generated), USE-lite embeddings (cached in .cache
 * after the first run), LanceDB in a temp dir, the real HTTP server. Requests are sequential
 * (latency, not throughput). Each query string is distinct, so the query-embedding cache never hits.
 * Output: a markdown table, then one JSON line.
 */
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/api/app.ts';
import { loadConfig } from '../src/config.ts';
import { servableAt } from '../src/domain/filter.ts';
import { Engine } from '../src/engine.ts';
import { createLogger } from '../src/log.ts';
import { generateCatalogue, SAMPLE_CATEGORIES, SAMPLE_CITIES } from '../src/sample/catalogue.ts';
import { LanceDbStore } from '../src/store/lancedb/lancedb-store.ts';
import { COUPON_TEXT_VERSION, embeddingText } from '../src/text/coupon-text.ts';
import { ProgressBar } from '../src/util/progress.ts';
import { seededRandom, pick } from '../src/util/random.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { cachedEmbeddings, fmt, summarize } from './lib.ts';

const options = parseCliArgs();
const arg = (name: string, fallback: string) => options[name] ?? fallback;
const SIZES = arg('sizes', '10000,100000').split(',').map(Number);
const QUERIES = Number(arg('queries', '300'));
const STAGES = ['embed', 'retrieve', 'fuse', 'rank', 'diversify', 'page'] as const;

const WORDS = ['cheap', 'half price', 'family', 'weekend', 'deal', 'discount', 'near me', 'tonight', 'for two', 'best', 'quick', 'luxury'];
const THINGS = ['pizza', 'sushi dinner', 'oil change', 'car wash', 'haircut', 'massage', 'yoga classes', 'hotel stay', 'headphones', 'running shoes', 'dental cleaning', 'dog grooming', 'movie tickets', 'bowling', 'piano lessons', 'house cleaning', 'brake repair', 'facial', 'burgers', 'coffee'];

/** Distinct realistic queries; a third carry a category or a radius filter. */
function makeQueries(n: number): string[] {
  const rand = seededRandom(99);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const q = `${pick(rand, WORDS)} ${pick(rand, THINGS)}${rand() < 0.3 ? ` ${pick(rand, WORDS)}` : ''}${out.length >= WORDS.length * THINGS.length ? ` ${out.length}` : ''}`;
    if (seen.has(q)) continue;
    seen.add(q);
    const u = rand();
    const city = pick(rand, SAMPLE_CITIES);
    const filter = u < 0.15 ? `&category=${pick(rand, SAMPLE_CATEGORIES)}` : u < 0.3 ? `&lat=${city.lat}&lon=${city.lon}&radius_km=15` : '';
    out.push(`q=${encodeURIComponent(q)}${filter}&limit=10`);
  }
  return out;
}

async function benchSize(size: number, all: ReturnType<typeof generateCatalogue>, vectors: Float32Array[]) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `bench-search-${size}-`));
  try {
    const store = new LanceDbStore({ dir: path.join(dir, 'lancedb') });
    await store.open({ embedderId: 'use-lite@1', dims: 512, textVersion: COUPON_TEXT_VERSION });
    const bar = new ProgressBar(`loading ${size} coupons`, size);
    for (let i = 0; i < size; i += 5000) {
      await store.upsert(all.slice(i, Math.min(size, i + 5000)).map((coupon, j) => ({ coupon, vector: vectors[i + j]! })));
      bar.update(Math.min(size, i + 5000));
    }
    const t0 = performance.now();
    await store.optimize();
    const indexMs = performance.now() - t0;
    const stats = await store.stats();
    await store.close();

    const config = loadConfig({ DATA_DIR: dir, SEED_SAMPLE: 'false', LOG_LEVEL: 'warn', EMBED_THREADS: '0' });
    const engine = await Engine.start({ config, logger: createLogger('warn'), runWorker: true });
    const server = createApp(engine).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const queries = makeQueries(QUERIES + 20);
    for (const q of queries.slice(0, 20)) await fetch(`${base}/v1/search?${q}`).then((r) => r.arrayBuffer()); // warm-up

    const total: number[] = [];
    const stages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
    const progress = new ProgressBar(`searching ${size}`, QUERIES);
    for (const q of queries.slice(20)) {
      const started = performance.now();
      const res = await fetch(`${base}/v1/search?${q}`);
      await res.arrayBuffer();
      total.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`search answered ${res.status} for ${q}`);
      for (const part of (res.headers.get('server-timing') ?? '').split(',')) {
        const m = /\s*(\w+);dur=([\d.]+)/.exec(part);
        if (m) stages[m[1]!]!.push(Number(m[2]));
      }
      progress.tick();
    }

    // The floor: the store's own kNN (k=10, validity filter) for the same query texts, vectors precomputed.
    const texts = queries.slice(20).map((q) => decodeURIComponent(/q=([^&]*)/.exec(q)![1]!));
    const queryVectors = await Promise.all(texts.map((t) => engine.embeddings.embedQuery(t)));
    const floor: number[] = [];
    const filter = servableAt(new Date());
    for (const v of queryVectors) {
      const started = performance.now();
      await engine.store.knn(v, { k: 10, filter });
      floor.push(performance.now() - started);
    }
    await new Promise((r) => server.close(r));
    await engine.close();
    return {
      size,
      ann_index: stats.annIndexed,
      index_build_ms: Math.round(indexMs),
      http: summarize(total),
      stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summarize(v)])),
      store_knn: summarize(floor),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const largest = Math.max(...SIZES);
  const all = generateCatalogue({ size: largest, seed: 7, anchor: new Date() });
  // Embedding texts do not depend on the anchor date, so the cache holds across days.
  const vectors = await cachedEmbeddings(all.map(embeddingText));
  const results = [];
  for (const size of SIZES) results.push(await benchSize(size, all, vectors));

  console.log(`\n### /v1/search over HTTP, sequential, ${QUERIES} distinct queries (ms), ${os.cpus().length} cores\n`);
  console.log('| coupons | index | p50 | p95 | p99 | embed p50 | retrieve p50 | fuse p50 | rank p50 | diversify p50 | store kNN p50 / p99 | HTTP p50 ÷ kNN p50 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const s = r.stages;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${r.ann_index ? 'IVF_HNSW_SQ' : 'exact'} | ${fmt(r.http.p50)} | ${fmt(r.http.p95)} | ${fmt(r.http.p99)} | ${fmt(s.embed!.p50)} | ${fmt(s.retrieve!.p50)} | ${fmt(s.fuse!.p50)} | ${fmt(s.rank!.p50)} | ${fmt(s.diversify!.p50)} | ${fmt(r.store_knn.p50)} / ${fmt(r.store_knn.p99)} | ${(r.http.p50 / r.store_knn.p50).toFixed(1)}× |`,
    );
  }
  console.log(JSON.stringify({ benchmark: 'search-latency', queries: QUERIES, results }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
