/**
 * Catalogue ingest through the path a marketplace uses: HTTP `POST /v1/coupons/batch` → queue →
 * indexer → store, on the embedded defaults (inline queue) or with Redis and a separate worker.
 *
 *   npm run bench:ingest [-- --n 100000 | --file coupons.jsonl] [--redis redis://127.0.0.1:6379]
 *                        [--batch 1000] [--updates 0.02] [--floor-texts 3000] [--keep-dir] [--search-rate 10]
 *
 * Inputs: N coupons from the sample generator (seed 11), or a JSON-lines file of coupons; the API
 * (and with --redis a worker) runs as its own process with the default configuration and a temp
 * DATA_DIR. A share (--updates) of the coupons is posted again mid-load as version + 1.
 * Measured, in this one run:
 *   - the floor: the raw document embedder (same kind and threads as the server's) on the same
 *     texts, before the load starts, with nothing else running;
 *   - beside it, ceilings of any write path (ingest-ceilings.ts): JSON.parse of the same request
 *     bodies, and LanceDB's own merge-insert of the same rows already in Arrow form;
 *   - accepted/s (the loader retries a 503 after its Retry-After), and indexed/s per tenth of
 *     the load, from the server's own /metrics (`index_coupons`);
 *   - the time until every coupon is stored and the queue is drained, and a search check of the
 *     last coupons posted;
 *   - with --search-rate, the latency of searches sent meanwhile (what shoppers wait during a load);
 *   - at the end: data fragments and live versions of the table, the journal's size, peak RSS;
 *   - every id stored once, at its latest version (the store is opened directly after shutdown).
 * Output: a markdown table on stdout, then one JSON line.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { loadConfig } from '../src/config.ts';
import { completeCoupon, type Coupon } from '../src/domain/coupon.ts';
import { matchesFilter, servableAt } from '../src/domain/filter.ts';
import { EmbedderPool } from '../src/embed/embedder-pool.ts';
import { generateCatalogue } from '../src/sample/catalogue.ts';
import { embeddingText } from '../src/text/coupon-text.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { readJsonLines } from '../src/util/json-lines.ts';
import { ProgressBar } from '../src/util/progress.ts';
import { bodyParseRate, parseAndEmbedCeiling, storeWriteRate } from './ingest-ceilings.ts';
import { configuredEmbedder, postBatches, scrape, startApi, storeFor, waitUntilIndexed } from './api-process.ts';
import { createHttpClient, fmt, QUERY_THINGS, QUERY_WORDS, summarize } from './lib.ts';

const args = parseCliArgs();
const N = Number(args.n ?? 100_000);
const BATCH = Number(args.batch ?? 1000);
const UPDATES = Number(args.updates ?? 0.02);
const FLOOR_TEXTS = Number(args['floor-texts'] ?? 3000);
/** Rows of the store's own write rate (ingest-ceilings.ts). */
const STORE_CEILING_ROWS = 20_000;
const REDIS_URL = args.redis;
/** Searches a second sent while the load runs (0: none), as shoppers would during a catalogue update. */
const SEARCH_RATE = Number(args['search-rate'] ?? 0);
const THREADS = Number(process.env.EMBED_THREADS ?? Math.min(4, os.availableParallelism()));

async function loadCoupons(): Promise<Coupon[]> {
  if (args.file) {
    const now = new Date();
    return (await readJsonLines<Coupon>(args.file)).map((c) => completeCoupon(c, now));
  }
  return generateCatalogue({ size: N, seed: 11 });
}

/**
 * The raw document embedder's throughput on these texts: what indexing can at best reach. The
 * embedder the API is configured with (EMBEDDER), run as the engine runs it: USE-lite on a pool of
 * threads, the static embedder on the calling thread.
 */
async function embedderFloor(texts: string[]): Promise<{ floor: number; vectors: Float32Array[] }> {
  const config = loadConfig(process.env).embedder;
  const { embedder, space } = await configuredEmbedder();
  const pool = config.kind === 'use-lite' ? new EmbedderPool(config, THREADS, space.embedderId, space.dims) : embedder;
  await pool.ready();
  const chunks: string[][] = [];
  for (let i = 0; i < texts.length; i += 64) chunks.push(texts.slice(i, i + 64));
  const vectors: Float32Array[][] = new Array(chunks.length);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: THREADS }, async () => {
      while (next < chunks.length) {
        const i = next++;
        vectors[i] = await pool.embed(chunks[i]!);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  await embedder.close();
  return { floor: texts.length / seconds, vectors: vectors.flat() };
}

/**
 * Sequential searches at `rate` a second (a query's time included) until `done()`: what a shopper
 * waits while the catalogue loads. Returns each answer's milliseconds; a non-200 answer throws.
 */
async function searchWhileLoading(url: string, rate: number, done: () => boolean): Promise<number[]> {
  const client = createHttpClient(url);
  const ms: number[] = [];
  try {
    for (let i = 0; !done(); i++) {
      const started = performance.now();
      const q = `${QUERY_WORDS[i % QUERY_WORDS.length]} ${QUERY_THINGS[(i * 7) % QUERY_THINGS.length]}`;
      const answer = await client.get(`/v1/search?q=${encodeURIComponent(q)}&limit=10`);
      if (answer.status !== 200) throw new Error(`a search during the load answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
      ms.push(answer.ms);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (performance.now() - started))));
    }
  } finally {
    client.close();
  }
  return ms;
}

/** Peak resident set of a process, in MiB (Linux). */
async function peakRssMiB(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : undefined;
}

async function main(): Promise<void> {
  const coupons = await loadCoupons();
  const n = coupons.length;
  const texts = coupons.slice(0, Math.min(FLOOR_TEXTS, n)).map(embeddingText);
  process.stderr.write(`measuring the embedder floor on ${texts.length} of the same texts (${THREADS} threads)…\n`);
  const { floor, vectors } = await embedderFloor(texts);
  process.stderr.write(`floor: ${floor.toFixed(0)} texts/s\n`);

  // Updates: a share of the coupons posted again as the next version, after the first half.
  const updated = coupons.slice(0, Math.round(n * UPDATES)).map((c) => ({ ...c, title: `${c.title} (updated)`, version: c.version + 1 }));
  const batches: Coupon[][] = [];
  for (let i = 0; i < n; i += BATCH) batches.push(coupons.slice(i, i + BATCH));
  const half = Math.ceil(batches.length / 2);
  for (let i = 0; i < updated.length; i += BATCH) batches.splice(half + i / BATCH, 0, updated.slice(i, i + BATCH));

  // Ceilings of any write path on this machine, also with nothing else running (ingest-ceilings.ts).
  const parseRate = bodyParseRate(batches);
  const ceiling = parseAndEmbedCeiling(floor, parseRate, os.availableParallelism());
  const storeRate = await storeWriteRate(coupons.slice(0, Math.min(n, STORE_CEILING_ROWS)), vectors);
  process.stderr.write(`request bodies parsed: ${parseRate.toFixed(0)} coupons/s; the store's own merge-insert: ${storeRate.toFixed(0)} rows/s\n`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-ingest-'));
  const env: Record<string, string> = { DATA_DIR: dir, EMBED_THREADS: String(THREADS) };
  if (REDIS_URL) Object.assign(env, { REDIS_URL, QUEUE_PREFIX: `bench-ingest-${Date.now()}`, WORKER_IN_API: 'false' });
  const server = await startApi(env);
  const { url } = server;
  const [api, worker] = server.processes;

  try {
    const started = performance.now();
    let accepted = 0;
    let acceptedAllAt = 0;
    const acceptBar = new ProgressBar('accepted', n + updated.length);
    const loading = postBatches(url, batches, (k) => {
      accepted += k;
      acceptBar.update(accepted);
      if (accepted === n + updated.length) acceptedAllAt = performance.now();
    });

    let drained = false;
    const searching = SEARCH_RATE > 0 ? searchWhileLoading(url, SEARCH_RATE, () => drained) : Promise.resolve([]);

    // Indexed coupons over time, from the API's own metrics: when each tenth was reached.
    const tenths: number[] = [];
    const indexBar = new ProgressBar('indexed', n);
    let loaded = false;
    void loading.then(() => (loaded = true));
    await waitUntilIndexed(
      url,
      n,
      () => loaded,
      (indexed) => {
        indexBar.update(indexed);
        while (tenths.length < 10 && indexed >= ((tenths.length + 1) * n) / 10) tenths.push(performance.now());
      },
    );
    const { retries } = await loading;
    const drainedAt = performance.now();
    drained = true;
    const searchLatencies = await searching;
    const searchMs = { ...summarize(searchLatencies), max: Math.max(...searchLatencies) };

    // Searchable: the last coupons posted that are servable now are found by their own title. The
    // API may still be reading in what a separate worker wrote: the probe repeats (for up to 120 s)
    // until it finds them all, and "searchable" is when it did.
    const now = new Date();
    const probe = coupons
      .slice(-400)
      .filter((c) => matchesFilter(c, servableAt(now)))
      .slice(-30);
    let found = 0;
    const refused: string[] = [];
    for (let round = 0; found < probe.length && performance.now() - drainedAt < 120_000; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 250));
      found = 0;
      for (const c of probe) {
        const res = await fetch(`${url}/v1/search?q=${encodeURIComponent(c.title)}&merchant=${encodeURIComponent(c.merchant.id)}&limit=50`);
        const body = (await res.json()) as { results?: Array<{ id: string }>; error?: { message?: string } };
        if (res.status !== 200 || !body.results) refused.push(`${res.status} ${body.error?.message ?? ''}`.trim());
        else if (body.results.some((r) => r.id === c.id)) found++;
      }
    }
    const doneAt = performance.now();
    if (refused.length) process.stderr.write(`search probe: ${refused.length} refused, e.g. ${refused[0]}\n`);
    const writer = (await scrape(url)).labelled('index_writer', 'counter');
    const rss = { api: await peakRssMiB(api!.child.pid), worker: await peakRssMiB(worker?.child.pid) };
    await server.stop();

    const journal = await stat(path.join(dir, 'jobs.jsonl')).then(
      (s) => s.size,
      () => 0,
    );
    const db = await lancedb.connect(path.join(dir, 'lancedb'));
    const pointer = JSON.parse(await readFile(path.join(dir, 'lancedb', 'current.json'), 'utf8')) as { table: string };
    const table = await db.openTable(pointer.table);
    const tableStats = await table.stats();
    const versions = (await table.listVersions()).length;
    table.close();
    db.close();

    // Every id once, at its latest version.
    const store = storeFor(dir);
    await store.open((await configuredEmbedder()).space);
    const expected = new Map(coupons.map((c) => [c.id, c.version]));
    for (const u of updated) expected.set(u.id, u.version);
    const seen = new Map<string, number>();
    let duplicates = 0;
    for await (const rows of store.scan(5000)) {
      for (const { coupon } of rows) {
        if (seen.has(coupon.id)) duplicates++;
        seen.set(coupon.id, coupon.version);
      }
    }
    await store.close();
    const missing = [...expected.keys()].filter((id) => !seen.has(id)).length;
    const wrongVersion = [...expected].filter(([id, v]) => seen.has(id) && seen.get(id) !== v).length;

    const totalS = (doneAt - started) / 1000;
    const perTenth = tenths.map((t, i) => n / 10 / ((t - (i === 0 ? started : tenths[i - 1]!)) / 1000));
    // Indexed: stored by the indexer and the queue drained (searchable may come later, in another process).
    const indexedPerS = n / ((drainedAt - started) / 1000);
    const result = {
      mode: REDIS_URL ? 'redis + separate worker' : 'embedded (inline queue)',
      coupons: n,
      updates: updated.length,
      floor_texts_per_s: floor,
      body_parse_per_s: parseRate,
      parse_and_embed_ceiling_per_s: ceiling,
      ceiling_to_floor: ceiling / floor,
      store_merge_insert_rows_per_s: storeRate,
      store_to_floor: storeRate / floor,
      accepted_per_s: (n + updated.length) / ((acceptedAllAt - started) / 1000),
      loader_retries_after_503: retries,
      indexed_per_s: indexedPerS,
      ratio_to_floor: indexedPerS / floor,
      indexed_per_s_by_tenth: perTenth,
      last_to_first_tenth: perTenth[9]! / perTenth[0]!,
      seconds_until_drained: (drainedAt - started) / 1000,
      seconds_until_all_searchable: totalS,
      search_probe: `${found}/${probe.length}`,
      searches_during_load: SEARCH_RATE > 0 ? { rate: SEARCH_RATE, ...searchMs } : undefined,
      fragments: tableStats.fragmentStats.numFragments,
      small_fragments: tableStats.fragmentStats.numSmallFragments,
      live_versions: versions,
      journal_bytes: journal,
      peak_rss_mib: rss,
      api_writer: writer,
      stored: seen.size,
      duplicates,
      missing,
      wrong_version: wrongVersion,
    };
    console.log(`\n| ${result.mode}, ${n} coupons (+${updated.length} updates) | value |\n|---|---|`);
    console.log(`| embedder floor (same texts, ${THREADS} threads) | ${result.floor_texts_per_s.toFixed(0)} texts/s |`);
    console.log(
      `| ceilings, same texts (ingest-ceilings.ts) | JSON.parse of the request bodies ${parseRate.toFixed(0)} coupons/s, so parse + embed on every core at best ${ceiling.toFixed(0)}/s (${result.ceiling_to_floor.toFixed(2)} × floor); LanceDB's own merge-insert, rows already in Arrow, ${storeRate.toFixed(0)} rows/s (${result.store_to_floor.toFixed(2)} × floor) |`,
    );
    console.log(`| accepted/s | ${result.accepted_per_s.toFixed(0)} (${retries} retries after 503) |`);
    console.log(`| indexed/s, whole load | ${indexedPerS.toFixed(0)} (${result.ratio_to_floor.toFixed(2)} × floor) |`);
    console.log(`| indexed/s per tenth | ${perTenth.map((x) => x.toFixed(0)).join(', ')} (last/first ${result.last_to_first_tenth.toFixed(2)}) |`);
    console.log(
      `| until every coupon is indexed / searchable | ${fmt((drainedAt - started) / 1000)} / ${fmt(totalS)} s (search probe ${result.search_probe}) |`,
    );
    if (SEARCH_RATE > 0)
      console.log(
        `| searches during the load (${SEARCH_RATE}/s, sequential) | ${searchMs.n} answered, p50 ${fmt(searchMs.p50)} / p95 ${fmt(searchMs.p95)} / p99 ${fmt(searchMs.p99)} / max ${fmt(searchMs.max)} ms |`,
      );
    console.log(`| fragments / live versions at the end | ${result.fragments} / ${versions} |`);
    if (!REDIS_URL)
      console.log(
        `| store commits / maintenance runs (time) | ${writer.commits} / ${writer.maintenanceRuns} (${((writer.maintenanceMs ?? 0) / 1000).toFixed(1)} s) |`,
      );
    console.log(`| journal | ${(journal / 1024).toFixed(0)} KiB |`);
    console.log(`| peak RSS | API ${rss.api?.toFixed(0)} MiB${rss.worker ? `, worker ${rss.worker.toFixed(0)} MiB` : ''} |`);
    console.log(`| stored / duplicates / missing / wrong version | ${seen.size} / ${duplicates} / ${missing} / ${wrongVersion} |`);
    console.log(JSON.stringify(result));
    if (duplicates || missing || wrongVersion) process.exitCode = 1;
  } finally {
    for (const p of server.processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    if (!args['keep-dir']) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`data left in ${dir}\n`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
