/**
 * Search latency over HTTP, per pipeline stage, on stores built the way a marketplace builds them
 * (POST /v1/coupons/batch → queue → indexer), against the raw store kNN floor and the query
 * embedding time measured in the same run on the same queries.
 *
 *   npm run bench:search [-- --sizes 10000,100000 --queries 300]
 *   npm run bench:search -- --data-dir DIR     (a DATA_DIR built earlier, e.g. bench:ingest --keep-dir)
 *
 * Inputs: the seeded sample catalogue (generated), sent through the API as its own process with
 * the default configuration (rate limits off: one client sends everything); USE-lite embeddings.
 * Requests are sequential (latency, not throughput). Each query string is distinct, so the
 * query-embedding cache never hits. The floor: the store's own kNN (k=10, validity filter), from
 * this process on the same data dir, with the query vectors embedded beforehand.
 * Output: a markdown table, then one JSON line.
 */
import { spaceOf } from '../src/store/vector-store.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { servableAt } from '../src/domain/filter.ts';
import { loadConfig } from '../src/config.ts';
import { createEmbedder } from '../src/embed/create-embedder.ts';
import { generateCatalogue, SAMPLE_CATEGORIES, SAMPLE_CITIES } from '../src/sample/catalogue.ts';
import { ProgressBar } from '../src/util/progress.ts';
import { waitFor } from '../test/support/processes.ts';
import { seededRandom, pick } from '../src/util/random.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { loadThroughApi, benchApiEnv, scrape, startApi, storeFor, waitUntilSettled } from './api-process.ts';
import { createHttpClient, type HttpAnswer, QUERY_THINGS as THINGS, QUERY_WORDS as WORDS, fmt, summarize } from './lib.ts';

type HttpClient = ReturnType<typeof createHttpClient>;

/** The search's `Server-Timing` header (its stages, and the parts within them). */
function serverTiming(res: HttpAnswer): string {
  const header = res.headers['server-timing'];
  return Array.isArray(header) ? header.join(', ') : (header ?? '');
}

const options = parseCliArgs();
const arg = (name: string, fallback: string) => options[name] ?? fallback;
const SIZES = arg('sizes', '10000,100000').split(',').map(Number);
const QUERIES = Number(arg('queries', '300'));
/** Typo correction and facets are timed over this many times as many queries (see `featureCosts`). */
const FEATURE_PASSES = 3;
const STAGES = ['embed', 'retrieve', 'fuse', 'rank', 'diversify', 'page'] as const;

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

/** One word of each query misspelt (a letter doubled), so typo correction has work to do. */
function misspell(query: string, rand: () => number): string {
  return query.replace(/q=([^&]*)/, (_, q: string) => {
    const words = decodeURIComponent(q).split(' ');
    const i = words.findIndex((w) => w.length >= 5);
    if (i >= 0) {
      const w = words[i]!;
      const at = 1 + Math.floor(rand() * (w.length - 2));
      words[i] = w.slice(0, at) + w[at] + w.slice(at);
    }
    return `q=${encodeURIComponent(words.join(' '))}`;
  });
}

/**
 * What typo correction and facet counting add: every query runs with the feature off and on, the
 * two interleaved a block of 8 queries at a time so drift hits both alike. Typo correction is timed on misspelt queries within
 * the `embed` stage (which it is part of), facets within `retrieve` + `page` (their retrievals run
 * beside the search's own; the counts are made before paging); HTTP totals are reported too.
 * Typo correction and facets run over `FEATURE_PASSES` × as many distinct queries as the search
 * pass: a collection pause of the API's young generation (~5 ms on this machine, every 20–70
 * searches) lands in one arm or the other at random, and with 300 pairs the p99 of each arm is
 * its third-slowest answer, so the difference of two p99s swung by ±10 ms (up to −44) between runs. Fresh
 * queries rather than the same ones again: a repeated filtered query would find its facet pool
 * cached and no longer be cold. Rules, whose tables report p99s of the same kind, keep 300.
 */
async function featureCosts(base: string, client: HttpClient, queries: string[]) {
  const rand = seededRandom(5);
  const timed = async (q: string) => {
    const res = await client.get(`/v1/search?${q}`);
    if (res.status !== 200) throw new Error(`search answered ${res.status} for ${q}`);
    const body = JSON.parse(res.body.toString()) as { results: Array<{ boosted_by?: string[] }> };
    const http = res.ms;
    const stage = (name: string) => Number(new RegExp(`(?:^|,\\s*)${name};dur=([\\d.]+)`).exec(serverTiming(res))?.[1] ?? 0);
    // Facets start their retrievals beside the search's own (`retrieve`) and count in `page`.
    // Rules run under `rank` (pins placed under `page`).
    return {
      http,
      embed: stage('embed'),
      retrieveAndPage: stage('retrieve') + stage('page'),
      rankAndPage: stage('rank') + stage('page'),
      // The features' own stages (Server-Timing parts): typo correction, facet retrieval and counting,
      // rule matching (and the pin reads it starts beside retrieval), applying rules, placing pins.
      correct: stage('embed-correct'),
      facets: stage('retrieve-facets') + stage('page-facets'),
      rules: stage('retrieve-rules') + stage('rank-rules') + stage('page-pins'),
      rulesFired: body.results.some((r) => r.boosted_by?.some((b) => b.startsWith('rule '))),
    };
  };
  type Timed = Awaited<ReturnType<typeof timed>>;
  const runs = {
    typoOff: [] as Timed[],
    typoOn: [] as Timed[],
    facetsOff: [] as Timed[],
    facetsOn: [] as Timed[],
    /** Queries with a category or radius filter: without facets, with them cold, and chosen after the unfiltered faceted search (navigation). */
    filteredOff: [] as Timed[],
    filteredCold: [] as Timed[],
    filteredNavigated: [] as Timed[],
  };
  const facetList = (q: string) => `&facets=category,merchant,discount${q.includes('lat=') ? ',distance' : ''}`;
  const progress = new ProgressBar('feature costs', queries.length);
  // In blocks of more queries than the serving index keeps recent scans of (`scan-memory.ts`: 4),
  // each arm over the whole block before the next: no timed search reuses the scan of the same
  // text that an earlier request made, whichever arm runs second.
  const BLOCK = 8;
  for (let b = 0; b < queries.length; b += BLOCK) {
    const block = queries.slice(b, b + BLOCK).map((q) => ({ q, typo: misspell(q, rand) }));
    // Each text is searched once before it is timed, so that neither arm pays alone for what a
    // text's first search warms (its embedding, understanding, correction); a facet pool is only
    // cached by a faceted search, so the filtered queries stay cold for facets.
    for (const { q, typo } of block) for (const warm of [`${typo}&typo_tolerance=false`, typo, q]) await client.get(`/v1/search?${warm}`);
    for (const { typo } of block) runs.typoOff.push(await timed(`${typo}&typo_tolerance=false`));
    for (const { typo } of block) runs.typoOn.push(await timed(typo));
    const off: Timed[] = [];
    const on: Timed[] = [];
    for (const { q } of block) off.push(await timed(q));
    for (const { q } of block) on.push(await timed(`${q}${facetList(q)}`));
    runs.facetsOff.push(...off);
    runs.facetsOn.push(...on);
    for (const [i, { q }] of block.entries()) {
      const unfiltered = q.replace(/&category=[^&]*|&radius_km=[^&]*/g, '');
      if (unfiltered === q) continue;
      // A shopper's faceted navigation: the search with its facet menu, then one value chosen.
      runs.filteredOff.push(off[i]!);
      runs.filteredCold.push(on[i]!);
      await timed(`${unfiltered}${facetList(q)}`);
      runs.filteredNavigated.push(await timed(`${q}${facetList(q)}`));
    }
    progress.tick(block.length);
  }
  const of = (list: Timed[], key: Exclude<keyof Timed, 'rulesFired'>) => summarize(list.map((r) => r[key]));

  // Merchandising rules: the same queries with none; with 1,000 that these queries never match
  // (what matching costs); then with 10 more, "contains" rules on the things people search, so
  // that most queries fire one: a pin (fetched when it is no candidate), a hide and a boost.
  // The rules are deleted again at the end: the data dir may serve bench:load next, which measures no rules.
  const created: string[] = [];
  const post = async (rule: unknown) => {
    const res = await fetch(`${base}/v1/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    if (res.status !== 201) throw new Error(`POST /v1/rules answered ${res.status}: ${await res.text()}`);
    created.push(((await res.json()) as { id: string }).id);
  };
  const pass = async () => {
    const out: Timed[] = [];
    for (const q of queries.slice(0, QUERIES)) out.push(await timed(q));
    return out;
  };
  const none = await pass();
  for (let i = 0; i < 1000; i++) {
    const thing = THINGS[i % THINGS.length]!;
    await post(
      i % 2
        ? { condition: { query: { exact: `${thing} campaign ${i}` } }, consequence: { hide: [`none-${i}`] } }
        : { condition: { query: { contains: `${thing} special ${i}` } }, consequence: { boost: [{ filter: { merchant: [`m-${i}`] }, weight: 1 }] } },
    );
  }
  const unmatched = await pass();
  const sample = (await (await fetch(`${base}/v1/search?q=pizza&limit=20`)).json()) as { results: Array<{ id: string }> };
  for (let i = 0; i < 10; i++) {
    const consequence = {
      pin: [{ id: sample.results[i]!.id, position: 1 + (i % 3) }],
      hide: [sample.results[19 - i]!.id],
      boost: [{ filter: { discount_pct: { gte: 40 } }, weight: 0.5 }],
    };
    await post({ condition: { query: { contains: THINGS[i]! } }, consequence });
  }
  const firing = await pass();
  for (const id of created) {
    const res = await fetch(`${base}/v1/rules/${id}`, { method: 'DELETE' });
    if (res.status !== 204) throw new Error(`DELETE /v1/rules/${id} answered ${res.status}`);
  }
  return {
    rules: {
      none: of(none, 'rankAndPage'),
      unmatched: of(unmatched, 'rankAndPage'),
      firing: of(firing, 'rankAndPage'),
      own_unmatched: of(unmatched, 'rules'),
      own_firing: of(firing, 'rules'),
      fired_share: firing.filter((r) => r.rulesFired).length / firing.length,
      http: { none: of(none, 'http'), unmatched: of(unmatched, 'http'), firing: of(firing, 'http') },
    },
    typo: {
      own: of(runs.typoOn, 'correct'),
      embed_off: of(runs.typoOff, 'embed'),
      embed_on: of(runs.typoOn, 'embed'),
      http_off: of(runs.typoOff, 'http'),
      http_on: of(runs.typoOn, 'http'),
    },
    facets: {
      own: of(runs.facetsOn, 'facets'),
      retrieve_page_off: of(runs.facetsOff, 'retrieveAndPage'),
      retrieve_page_on: of(runs.facetsOn, 'retrieveAndPage'),
      http_off: of(runs.facetsOff, 'http'),
      http_on: of(runs.facetsOn, 'http'),
      filtered: {
        queries: runs.filteredOff.length,
        retrieve_page_off: of(runs.filteredOff, 'retrieveAndPage'),
        cold: { own: of(runs.filteredCold, 'facets'), retrieve_page: of(runs.filteredCold, 'retrieveAndPage') },
        navigated: { own: of(runs.filteredNavigated, 'facets'), retrieve_page: of(runs.filteredNavigated, 'retrieveAndPage') },
      },
    },
  };
}

/** A store built through the API (queue → indexer), or the one already in `dataDir`. */
async function benchSize(size: number, dataDir: string | undefined) {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), `bench-search-${size}-`)));
  const server = await startApi(benchApiEnv(dir, options.ranker));
  try {
    const base = server.url;
    if (!dataDir) await loadThroughApi(base, generateCatalogue({ size, seed: 7, anchor: new Date() }));
    await waitUntilSettled(base);
    const built = await scrape(base);
    const count = built.gauge('index_coupons') ?? 0;
    const fragments = built.gauge('index_fragments');
    const queries = makeQueries(QUERIES + 20);
    // The API builds its catalogue vocabulary (typo tolerance, autocomplete) from the store in the
    // background at start-up: measure once it is there, as a running server would be.
    await waitFor(
      'the catalogue vocabulary',
      async () => ((await (await fetch(`${base}/v1/suggest?q=a`)).json()) as { suggestions: unknown[] }).suggestions.length > 0,
      120_000,
    );
    const client = createHttpClient(base);
    for (const q of queries.slice(0, 20)) await client.get(`/v1/search?${q}`); // warm-up

    const total: number[] = [];
    const stages: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
    const progress = new ProgressBar(`searching ${count}`, QUERIES);
    for (const q of queries.slice(20)) {
      const res = await client.get(`/v1/search?${q}`);
      total.push(res.ms);
      if (res.status !== 200) throw new Error(`search answered ${res.status} for ${q}`);
      for (const part of serverTiming(res).split(',')) {
        // Stage entries only (`embed`), not the parts within them (`embed-correct`).
        const m = /^\s*(\w+);dur=([\d.]+)$/.exec(part);
        if (m) stages[m[1]!]?.push(Number(m[2]));
      }
      progress.tick();
    }

    const features = await featureCosts(base, client, makeQueries(20 + FEATURE_PASSES * QUERIES).slice(20));

    // Autocomplete as a shopper types: each prefix of the same queries, 1 to 8 characters, after the
    // warm-up queries' prefixes (as the search pass has its warm-up). Beside it, in turns, the same
    // number of requests to /healthz, which does nothing: the HTTP round trip's own floor and tail
    // on this machine, in this run.
    const prefixesOf = (q: string) => {
      const text = decodeURIComponent(/q=([^&]*)/.exec(q)![1]!);
      return Array.from({ length: Math.min(8, text.length) }, (_, n) => text.slice(0, n + 1));
    };
    for (const q of queries.slice(0, 20)) for (const prefix of prefixesOf(q)) await client.get(`/v1/suggest?q=${encodeURIComponent(prefix)}`);
    const suggest: number[] = [];
    const noop: number[] = [];
    // Every keystroke of the first 8 characters: ~8 requests a query, so the p99 rests on tens of samples, not 3.
    for (const q of queries.slice(20)) {
      for (const prefix of prefixesOf(q)) {
        const res = await client.get(`/v1/suggest?q=${encodeURIComponent(prefix)}`);
        if (res.status !== 200) throw new Error(`suggest answered ${res.status} for ${prefix}`);
        suggest.push(res.ms);
        noop.push((await client.get('/healthz')).ms);
      }
    }
    client.close();

    // The floor, on the same store and query texts: the store's own kNN (k=10, validity filter)
    // from this process, with the vectors embedded beforehand by the same model.
    const texts = queries.slice(20).map((q) => decodeURIComponent(/q=([^&]*)/.exec(q)![1]!));
    // The same model alone in this process, one query at a time: what the `embed` stage costs
    // without the server's other work around it.
    const embedder = createEmbedder(loadConfig(process.env).embedder);
    await embedder.ready();
    for (const t of texts.slice(0, 20)) await embedder.embed([`${t} warm-up`]);
    const embedAlone: number[] = [];
    const queryVectors: Float32Array[] = [];
    for (const t of texts) {
      const started = performance.now();
      queryVectors.push((await embedder.embed([t]))[0]!);
      embedAlone.push(performance.now() - started);
    }
    const space = spaceOf(embedder);
    await embedder.close();
    const store = storeFor(dir);
    await store.open(space);
    const stats = await store.stats();
    const floor: number[] = [];
    const filter = servableAt(new Date());
    for (const v of queryVectors.slice(0, 20)) await store.knn(v, { k: 10, filter }); // warm-up
    for (const v of queryVectors) {
      const started = performance.now();
      await store.knn(v, { k: 10, filter });
      floor.push(performance.now() - started);
    }
    await store.close();
    return {
      size: count,
      built: dataDir ? `existing store in ${dataDir}` : 'through the API (POST /v1/coupons/batch → queue → indexer)',
      ann_index: stats.annIndexed,
      fragments,
      http: summarize(total),
      stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summarize(v)])),
      store_knn: summarize(floor),
      embed_alone: summarize(embedAlone),
      suggest: summarize(suggest),
      healthz: summarize(noop),
      features,
    };
  } finally {
    await server.stop();
    if (!dataDir) await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const results = [];
  if (options['data-dir']) results.push(await benchSize(0, path.resolve(options['data-dir'])));
  else for (const size of SIZES) results.push(await benchSize(size, undefined));

  console.log(`\n### /v1/search over HTTP, sequential, ${QUERIES} distinct queries (ms), ${os.cpus().length} cores\n`);
  console.log(
    '| coupons | index | fragments | p50 | p95 | p99 | embed p50 / p99, typo correction included (model alone) | retrieve p50 | fuse p50 | rank p50 | diversify p50 | store kNN p50 / p99 | HTTP p50 ÷ (embed p50 + kNN p50) | /v1/suggest p50 / p99 (requests) | /healthz p50 / p99 (the HTTP floor) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const s = r.stages;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${r.ann_index ? 'IVF_HNSW_SQ' : 'exact'} | ${r.fragments ?? '?'} | ${fmt(r.http.p50)} | ${fmt(r.http.p95)} | ${fmt(r.http.p99)} | ${fmt(s.embed!.p50)} / ${fmt(s.embed!.p99)} (${fmt(r.embed_alone.p50)}) | ${fmt(s.retrieve!.p50)} | ${fmt(s.fuse!.p50)} | ${fmt(s.rank!.p50)} | ${fmt(s.diversify!.p50)} | ${fmt(r.store_knn.p50)} / ${fmt(r.store_knn.p99)} | ${(r.http.p50 / (s.embed!.p50 + r.store_knn.p50)).toFixed(2)} | ${fmt(r.suggest.p50)} / ${fmt(r.suggest.p99)} (${r.suggest.n}) | ${fmt(r.healthz.p50)} / ${fmt(r.healthz.p99)} |`,
    );
  }
  console.log(
    `\n### What typo correction (misspelt queries; its own stage, and the \`embed\` stage it is part of) and facets (their own stages, and \`retrieve\` + \`page\`) add, ${FEATURE_PASSES * QUERIES} distinct queries each way, p50 / p99 (ms)\n`,
  );
  console.log(
    '| coupons | typo correction itself | embed, typo off | embed, typo on | added p99 | facet stages themselves | retrieve + page, no facets | retrieve + page, 3–4 facets | added p99 | HTTP p99 off → on (typo; facets) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const { typo, facets } = r.features;
    const pair = (x: { p50: number; p99: number }) => `${fmt(x.p50)} / ${fmt(x.p99)}`;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${pair(typo.own)} | ${pair(typo.embed_off)} | ${pair(typo.embed_on)} | ${fmt(typo.embed_on.p99 - typo.embed_off.p99)} | ${pair(facets.own)} | ${pair(facets.retrieve_page_off)} | ${pair(facets.retrieve_page_on)} | ${fmt(facets.retrieve_page_on.p99 - facets.retrieve_page_off.p99)} | ${fmt(typo.http_off.p99)} → ${fmt(typo.http_on.p99)}; ${fmt(facets.http_off.p99)} → ${fmt(facets.http_on.p99)} |`,
    );
  }
  console.log(
    '\n### Facets on queries with a category or radius filter (disjunctive counts): cold, and with the value chosen after the unfiltered faceted search (navigation), p50 / p99 (ms)\n',
  );
  console.log(
    '| coupons | queries | retrieve + page, no facets | cold: facet stages / retrieve + page | added p99 | navigation: facet stages / retrieve + page | added p99 |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const f = r.features.facets.filtered;
    const pair = (x: { p50: number; p99: number }) => `${fmt(x.p50)} / ${fmt(x.p99)}`;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${f.queries} | ${pair(f.retrieve_page_off)} | ${pair(f.cold.own)}; ${pair(f.cold.retrieve_page)} | ${fmt(f.cold.retrieve_page.p99 - f.retrieve_page_off.p99)} | ${pair(f.navigated.own)}; ${pair(f.navigated.retrieve_page)} | ${fmt(f.navigated.retrieve_page.p99 - f.retrieve_page_off.p99)} |`,
    );
  }
  console.log('\n### What merchandising rules add (`rank` + `page` stages), p50 / p99 (ms)\n');
  console.log(
    '| coupons | rule stages themselves: 1,000 none matching / + 10 firing | rank + page, no rules | 1,000 rules, none matching | added p99 | + 10 firing (pin, hide, boost; share of queries) | added p99 | HTTP p99: none / 1,000 / firing |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const { rules } = r.features;
    const pair = (x: { p50: number; p99: number }) => `${fmt(x.p50)} / ${fmt(x.p99)}`;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${pair(rules.own_unmatched)}; ${pair(rules.own_firing)} | ${pair(rules.none)} | ${pair(rules.unmatched)} | ${fmt(rules.unmatched.p99 - rules.none.p99)} | ${pair(rules.firing)} (${Math.round(rules.fired_share * 100)} %) | ${fmt(rules.firing.p99 - rules.none.p99)} | ${fmt(rules.http.none.p99)} / ${fmt(rules.http.unmatched.p99)} / ${fmt(rules.http.firing.p99)} |`,
    );
  }
  console.log(JSON.stringify({ benchmark: 'search-latency', queries: QUERIES, results }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
