/**
 * Search relevance on graded judgments: BM25, each embedder, the fusions, what a fresh install
 * serves (`default`) and the learned ranker, side by side in one run.
 *
 *   npm run eval:ranking -- --train ../shared/data/home-depot/judgments.csv [--test <csv>] [--folds 5] [--queries N] [--save models/ranker] [--no-adapt]
 *
 * Inputs: CSV files shaped like judgments.csv (id, product_uid, product_title, search_term,
 * relevance 1–3). The corpus is every distinct product title in the files. Lexical retrieval is
 * the engine's own (the serving index's BM25 over the products stored as coupons in LanceDB, temp dir); dense
 * retrieval is exact search over each embedder's vectors (USE-lite's cached in .cache/). Gain =
 * (relevance − 1) / 2. Without --test: k-fold by query over --train; the adapted embedder and the
 * ranker learn from the training folds only. Score ties break by a hash of the product id.
 * Output: markdown tables, then one JSON line (the last line of stdout).
 */
import { spaceOf } from '../store/vector-store.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { trainAdaptation } from '../embed/static-vectors/train-adaptation.ts';
import { StaticVectorEmbedder } from '../embed/static-vectors/static-vector-embedder.ts';
import { bridgedSource, type DenseSource, staticSource, useLiteSource } from '../eval/dense-sources.ts';
import { corpusOf, type Judgment, loadJudgments, pairsFromJudgments, productCoupon, productIdToCoupon } from '../eval/home-depot.ts';
import { type Candidate, MetricsTable, order, pool, recallOf } from '../eval/ranking-systems.ts';
import { saveRanker } from '../ranking/artifacts.ts';
import { idfLookup, idfTable, prepareQuery, RANKING_FEATURES, RANKING_FEATURES_VERSION, rankingFeatures } from '../ranking/features.ts';
import { PastQueryEngagement } from '../ranking/past-queries.ts';
import { LearnedRanker, type RankingList } from '../ranking/ranker.ts';
import type { FusionSettings } from '../search/fusion.ts';
import { createStore } from '../store/create-store.ts';
import { SpellingCorrector } from '../text/spelling.ts';
import { queryTerms } from '../text/title-match.ts';
import { bestCoverageIfWordsFail } from '../search/stages/paraphrase.ts';
import { tokenize } from '../text/tokenize.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { ProgressBar } from '../util/progress.ts';
import { seededRandom, shuffle } from '../util/random.ts';
import { mean } from '../util/ranking-metrics.ts';

const K = 100;
const gainOf = (relevance: number) => (relevance - 1) / 2;
const SWEEP_WEIGHTS = [0.05, 0.1, 0.2];
const BOOST_SWEEP = [0, 0.2, 0.4];

interface QueryData {
  query: string;
  judged: Map<string, number>;
  lexical: Array<{ id: string; score: number }>;
  /** BM25 among the judged products only. */
  lexicalJudged: Map<string, number>;
}

async function main(): Promise<void> {
  const a = parseCliArgs();
  if (!a.train) throw new Error('--train: a judgments CSV is required, e.g. --train ../shared/data/home-depot/judgments.csv');
  const train = await loadJudgments(a.train);
  const test = a.test ? await loadJudgments(a.test) : [];
  const folds = Number(a.folds ?? 5);
  const adapt = a['no-adapt'] === undefined;
  const started = Date.now();
  const config = loadConfig({});
  const cacheDir = config.embedder.kind === 'static' ? config.embedder.cacheDir : path.resolve('.cache/static-vectors');
  // The bridge as configured, or at weight 1 when it is off by default, so its effect is measured.
  const configured = config.embedder.kind === 'static' ? config.embedder.queryBridge : undefined;
  const bridge = configured && { ...configured, weight: configured.weight || 1 };

  const corpus = corpusOf([...train, ...test]);
  const ids = corpus.map((c) => productIdToCoupon(c.id));
  const titles = corpus.map((c) => c.title);
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const titleOf = new Map(ids.map((id, i) => [id, titles[i]!]));

  const group = (js: Judgment[]) => {
    const m = new Map<string, Map<string, number>>();
    for (const j of js) (m.get(j.query) ?? m.set(j.query, new Map()).get(j.query)!).set(productIdToCoupon(j.productId), gainOf(j.relevance));
    return m;
  };
  const trainQ = group(train);
  const testQ = group(test);
  let queryTexts = [...new Set([...trainQ.keys(), ...testQ.keys()])];
  if (a.queries) queryTexts = shuffle(seededRandom(1), queryTexts).slice(0, Number(a.queries));

  // Lexical retrieval: the engine's store, products as coupons.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eval-ranking-'));
  const embedder = new StaticVectorEmbedder({ cacheDir });
  await embedder.ready();
  // The same serving index as the API's (its BM25 is the one a fresh install answers with).
  const store = createStore(
    { kind: 'embedded', dir, annThreshold: 1e9, readConsistencyMs: 0, rowCacheSize: 1000, knnIndexWhenQuiet: true },
    loadConfig({}).servingIndex,
  );
  const data = new Map<string, QueryData>();
  const servedData = new Map<string, QueryData>();
  // Typo tolerance as the engine runs it: the corpus's words, the static table as the dictionary.
  const spelling = new SpellingCorrector((w) => embedder.wordTable.rowOf.has(w));
  for (const t of titles) spelling.addText(t);
  let corrections = 0;
  try {
    await store.open(spaceOf(embedder));
    const bar = new ProgressBar(`indexing ${corpus.length} products`, corpus.length);
    for (let i = 0; i < corpus.length; i += 5000) {
      const slice = corpus.slice(i, i + 5000);
      await store.upsert(slice.map((p) => ({ vector: embedder.embedOne(p.title), coupon: productCoupon(p.id, p.title) })));
      bar.update(i + slice.length);
    }
    await store.optimize();
    const qbar = new ProgressBar('lexical retrieval', queryTexts.length);
    const retrieve = async (query: string, judged: Map<string, number>): Promise<QueryData> => {
      const lexical = await store.lexical(query, { k: K });
      const lexicalJudged = await store.lexical(query, { k: judged.size, filter: { id: [...judged.keys()] } });
      return { query, judged, lexical, lexicalJudged: new Map(lexicalJudged.map((h) => [h.id, h.score])) };
    };
    for (const query of queryTexts) {
      const judged = testQ.get(query) ?? trainQ.get(query)!;
      const raw = await retrieve(query, judged);
      data.set(query, raw);
      // What the engine retrieves: the query after typo tolerance (the same when nothing changed).
      const corrected = spelling.correct(query).query;
      servedData.set(query, corrected === query ? raw : await retrieve(corrected, judged));
      if (corrected !== query) corrections++;
      qbar.tick();
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }

  // Dense sources: each embedder as it is, and the query path a fresh install serves.
  const statics = await staticSource(ids, titles, cacheDir);
  const servedTexts = [...new Set([...queryTexts, ...[...servedData.values()].map((q) => q.query)])];
  const sources: DenseSource[] = [statics, await useLiteSource(ids, titles, servedTexts)];
  const bridged = bridge ? await bridgedSource(statics, bridge.dir, servedTexts, bridge.weight) : undefined;
  if (bridged) sources.push(bridged);
  // A lighter bridge too: weight 1 is measured above.
  for (const w of bridge ? [bridge.weight / 4] : []) {
    const other = await bridgedSource(statics, bridge!.dir, servedTexts, w);
    if (other) sources.push(other);
  }
  const served = configured?.weight ? bridged! : statics; // what the engine's default config embeds queries with
  // The paraphrase retriever, as the engine runs it: when the words find fewer than
  // PARAPHRASE_MAX_LEXICAL_HITS products and no title holds every query term, USE-lite through the
  // bridge gives the dense list.
  const paraphrases = configured?.paraphrase ? await bridgedSource(statics, configured.dir, servedTexts, Infinity) : undefined;
  if (paraphrases) sources.push(paraphrases);
  const wordsFail = (q: QueryData) =>
    bestCoverageIfWordsFail(
      queryTerms(q.query),
      q.lexical.map((h) => tokenize(titleOf.get(h.id)!)),
      config.search.paraphrase.maxLexicalHits,
    ) !== undefined;
  let paraphrased = 0;
  const fusion = config.search.fusion as FusionSettings;

  const queries = [...data.keys()];
  const foldOf = new Map<string, number>();
  if (test.length) for (const q of queries) foldOf.set(q, testQ.has(q) ? 0 : -1);
  else shuffle(seededRandom(42), [...queries]).forEach((q, i) => foldOf.set(q, i % folds));
  const rounds = test.length ? 1 : folds;

  const table = new MetricsTable();
  const idfs = idfTable(titles);
  const idf = idfLookup(idfs);
  const denseList = (s: DenseSource, q: string) => s.search(q, K);
  // With a paraphrase list, it takes the static dense list's place, as in the engine.
  const poolOf = (q: QueryData, s: DenseSource, f: FusionSettings, paraphrase?: DenseSource) =>
    pool(q.query, paraphrase ? [] : denseList(s, q.query), q.lexical, f, titleOf, paraphrase ? denseList(paraphrase, q.query) : []);
  const judgedBy = (q: QueryData, s: DenseSource) =>
    [...q.judged.keys()].map((id) => ({ id, score: s.similarity(q.query, indexOf.get(id)!) })).sort((x, y) => y.score - x.score);
  const judgedPoolOf = (q: QueryData, s: DenseSource, f: FusionSettings, paraphrase?: DenseSource) =>
    pool(
      q.query,
      paraphrase ? [] : judgedBy(q, s),
      [...q.lexicalJudged].map(([id, score]) => ({ id, score })).sort((x, y) => y.score - x.score),
      f,
      titleOf,
      paraphrase ? judgedBy(q, paraphrase) : [],
    );
  // What shoppers did after past searches: the training folds' judgments stand in for the
  // engagement a deployment's served-list log records (gain as the weight). Set per fold.
  let pastQueries = new PastQueryEngagement();
  const noPastQueries = new PastQueryEngagement();
  // One lookup per query and memory: a query's lists are featurized for several rankers and pools.
  const affinities = new WeakMap<PastQueryEngagement, Map<string, ReturnType<PastQueryEngagement['affinity']>>>();
  const pastOf = (memory: PastQueryEngagement, query: string) => {
    const known = affinities.get(memory) ?? affinities.set(memory, new Map()).get(memory)!;
    // A training query's own judgments are in the memory: leave them out, as a new query has none.
    return known.get(query) ?? known.set(query, memory.affinity(query, { exclude: query })).get(query)!;
  };
  const features = (q: QueryData, candidates: Candidate[], memory = pastQueries) => {
    const pq = prepareQuery(q.query, { idf, maxBm25: Math.max(0, ...candidates.map((c) => c.lexical?.score ?? 0)) });
    const past = pastOf(memory, q.query);
    return candidates.map((c) =>
      rankingFeatures(pq, { title: c.title, dense: c.dense, bm25: c.lexical, fusedRank: c.fused!.rank }, { pastQueries: past.get(c.id) }),
    );
  };
  const memoryOf = (queries: Iterable<string>) => {
    const memory = new PastQueryEngagement();
    for (const query of queries) {
      const q = servedData.get(query)!;
      for (const [id, gain] of q.judged) memory.add(q.query, id, gain);
    }
    return memory;
  };
  // What the engine retrieves and fuses for this query with `source` as its embedder (the paraphrase
  // retriever standing in when the words fail); with `served`, exactly what the default config does.
  const servedPoolWith = (source: DenseSource) => (q: QueryData) => poolOf(q, source, fusion, paraphrases && wordsFail(q) ? paraphrases : undefined);
  const servedPool = servedPoolWith(served);
  const listOf = (q: QueryData, candidates = servedPool(q), memory = pastQueries): RankingList => ({
    features: features(q, candidates, memory),
    gains: candidates.map((c) => q.judged.get(c.id) ?? 0),
  });
  const record = (name: string, q: QueryData, ranked: string[], rerank?: string[]) => table.add(name, q.judged, ranked, rerank);
  // Recall of every candidate a ranker sees (up to 200: the union of the two top-100 lists), its ceiling.
  const poolRecall = { default: [] as number[], adapted: [] as number[] };

  for (let f = 0; f < rounds; f++) {
    const testQueries = queries.filter((q) => foldOf.get(q) === f);
    const trainQueries = shuffle(
      seededRandom(f + 7),
      queries.filter((q) => foldOf.get(q) !== f),
    );
    const trainSet = new Set(trainQueries);
    let adapted: DenseSource | undefined;
    if (adapt) {
      const pairs = pairsFromJudgments([...train, ...test].filter((j) => trainSet.has(j.query)));
      process.stderr.write(`fold ${f + 1}/${rounds}: adapting the static embedder on ${pairs.length} pairs of ${trainQueries.length} training queries\n`);
      const { adaptation } = await trainAdaptation(embedder.wordTable, pairs, { progress: true });
      adapted = await staticSource(ids, titles, cacheDir, { ...adaptation, id: 'fold' }, 'static (adapted)');
    }
    pastQueries = memoryOf(trainQueries);
    const cut = Math.floor(trainQueries.length * 0.9);
    // The ranker on the default's candidates, and the same without the memory of past searches (what those features add).
    const rankers: Array<{ name: string; memory: PastQueryEngagement; ranker: LearnedRanker }> = [];
    for (const [name, memory] of [
      ['ltr', pastQueries],
      ['ltr without past searches', noPastQueries],
    ] as const) {
      const ranker = new LearnedRanker({ progress: true });
      process.stderr.write(
        `fold ${f + 1}/${rounds}: training ${name} on ${cut} queries, validating on ${trainQueries.length - cut}, testing on ${testQueries.length}\n`,
      );
      await ranker.fit(
        trainQueries.slice(0, cut).map((q) => listOf(servedData.get(q)!, undefined, memory)),
        trainQueries.slice(cut).map((q) => listOf(servedData.get(q)!, undefined, memory)),
      );
      rankers.push({ name, memory, ranker });
    }
    // A deployment that trains both models: the ranker learns on the adapted embedder's candidates
    // and dense scores (the pool the engine retrieves once models/embedder is in place). Its own
    // training queries must not see an embedder adapted on them (their dense scores would be better
    // than on new queries, and the ranker would learn to over-trust them): each half of them gets
    // the candidates of an embedder adapted on the other half only (cross-fitting).
    const adaptedPool = adapted && servedPoolWith(adapted);
    const rankerOnAdapted = adapted && new LearnedRanker({ progress: true });
    if (rankerOnAdapted) {
      const halves = [trainQueries.filter((_, i) => i % 2 === 0), trainQueries.filter((_, i) => i % 2 === 1)];
      const outOfFold = new Map<string, DenseSource>();
      for (const [h, half] of halves.entries()) {
        const others = new Set(halves[1 - h]);
        process.stderr.write(`fold ${f + 1}/${rounds}: adapting on half ${2 - h} of the training queries, for the ranker's candidates of half ${h + 1}\n`);
        const { adaptation } = await trainAdaptation(embedder.wordTable, pairsFromJudgments([...train, ...test].filter((j) => others.has(j.query))), {
          progress: true,
        });
        const source = await staticSource(ids, titles, cacheDir, { ...adaptation, id: `fold-half-${h}` }, 'static (adapted out of fold)');
        for (const q of half) outOfFold.set(q, source);
      }
      process.stderr.write(`fold ${f + 1}/${rounds}: training the ranker on the adapted embedder's candidates\n`);
      const lists = (qs: string[]) => qs.map((q) => listOf(servedData.get(q)!, servedPoolWith(outOfFold.get(q)!)(servedData.get(q)!)));
      await rankerOnAdapted.fit(lists(trainQueries.slice(0, cut)), lists(trainQueries.slice(cut)));
    }
    const tbar = new ProgressBar(`fold ${f + 1}/${rounds}: scoring`, testQueries.length);
    for (const query of testQueries) {
      // `raw`: the query as typed (plain BM25 and each embedder alone); `q`: as the engine serves it.
      const raw = data.get(query)!;
      const q = servedData.get(query)!;
      const judgedPool = judgedPoolOf(q, served, fusion, paraphrases && wordsFail(q) ? paraphrases : undefined);
      record(
        'bm25',
        raw,
        order(pool(query, [], raw.lexical, fusion, titleOf), (c) => c.lexical!.score),
        order(judgedPoolOf(raw, served, fusion), (c) => c.lexical?.score ?? 0),
      );
      for (const s of [...sources, ...(adapted ? [adapted] : [])]) {
        record(
          `dense: ${s.name}`,
          raw,
          denseList(s, query).map((h) => h.id),
          order(judgedPoolOf(raw, s, fusion), (c) => c.dense?.score ?? 0),
        );
      }
      record(
        'default without typo tolerance',
        raw,
        order(poolOf(raw, served, fusion, paraphrases && wordsFail(raw) ? paraphrases : undefined), (c) => c.fused!.score),
      );
      const rrf: FusionSettings = {
        method: 'rrf',
        rrfK: 60,
        weights: { dense: 1, lexical: 1, paraphrase: 1, behavior: 1, popularity: 1 },
        matchBoost: { terms: 0, bigrams: 0 },
      };
      record(
        'rrf',
        q,
        order(poolOf(q, served, rrf), (c) => c.fused!.score),
        order(judgedPoolOf(q, served, rrf), (c) => c.fused!.score),
      );
      const fallback = paraphrases && wordsFail(q);
      if (fallback) paraphrased++;
      const defaultPool = servedPool(q);
      record(
        'default',
        q,
        order(defaultPool, (c) => c.fused!.score),
        order(judgedPool, (c) => c.fused!.score),
      );
      if (paraphrases)
        record(
          'default without the paraphrase retriever',
          q,
          order(poolOf(q, served, fusion), (c) => c.fused!.score),
        );
      if (adaptedPool && rankerOnAdapted) {
        const candidates = adaptedPool(q);
        record(
          'default + adapted embedder',
          q,
          order(candidates, (c) => c.fused!.score),
        );
        const scores = rankerOnAdapted.scoreSync(features(q, candidates));
        record(
          'ltr + adapted embedder',
          q,
          order(candidates, (_c, i) => scores[i]!),
        );
        const recall = recallOf(
          q.judged,
          candidates.map((c) => c.id),
        );
        if (recall !== undefined) poolRecall.adapted.push(recall);
      }
      // The choices behind the default: the dense list's weight and the title-match boost.
      for (const w of SWEEP_WEIGHTS) {
        for (const boost of BOOST_SWEEP) {
          const f: FusionSettings = { ...fusion, weights: { ...fusion.weights, dense: w, lexical: 1 - w }, matchBoost: { terms: boost, bigrams: boost } };
          record(
            `sweep: dense ${w}, match boost ${boost}`,
            q,
            order(poolOf(q, served, f), (c) => c.fused!.score),
          );
        }
      }
      const recall = recallOf(
        q.judged,
        defaultPool.map((c) => c.id),
      );
      if (recall !== undefined) poolRecall.default.push(recall);
      for (const { name, memory, ranker } of rankers) {
        const s = ranker.scoreSync(features(q, defaultPool, memory));
        const sj = ranker.scoreSync(features(q, judgedPool, memory));
        record(
          name,
          q,
          order(defaultPool, (_c, i) => s[i]!),
          order(judgedPool, (_c, i) => sj[i]!),
        );
      }
      tbar.tick();
    }
  }

  const systems = table.summary();
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\n### ${test.length ? 'train → test' : `${folds}-fold by query`}: ${queries.length} queries, corpus ${corpus.length} products; default = ${served.name} dense + ${fusion.method} fusion (dense ${fusion.weights.dense}), no trained ranker; features v${RANKING_FEATURES_VERSION} (${RANKING_FEATURES.length}); ${seconds} s\n`,
  );
  console.log(table.markdown());
  const candidateRecall = {
    default: round(mean(poolRecall.default)),
    adapted_embedder: poolRecall.adapted.length ? round(mean(poolRecall.adapted)) : undefined,
  };
  console.log(
    `\nRecall of the whole candidate pool (what any ranker of it can reach): default ${candidateRecall.default}${candidateRecall.adapted_embedder === undefined ? '' : `, with the adapted embedder ${candidateRecall.adapted_embedder}`}`,
  );
  if (a.save) {
    pastQueries = memoryOf(queries);
    const everything = shuffle(seededRandom(99), [...queries]);
    const cut = Math.floor(everything.length * 0.9);
    const final = new LearnedRanker({ progress: true });
    await final.fit(
      everything.slice(0, cut).map((q) => listOf(servedData.get(q)!)),
      everything.slice(cut).map((q) => listOf(servedData.get(q)!)),
    );
    await saveRanker(a.save, final, { training: { data: a.train, queries: queries.length, corpus: corpus.length }, metrics: { ...systems.ltr }, idf: idfs });
    process.stderr.write(`saved the ranker to ${a.save}\n`);
  }
  const adaptedDense = systems['dense: static (adapted)'];
  const json: Record<string, unknown> = {
    systems: {
      bm25: systems.bm25,
      // `dense`: the default embedder, adapted on the training folds (unadapted with --no-adapt).
      dense: adaptedDense ?? systems['dense: static'],
      rrf: systems.rrf,
      ltr: systems.ltr,
      default: systems.default,
    },
    ltr_without_past_searches: systems['ltr without past searches'],
    embedders: Object.fromEntries(
      Object.entries(systems)
        .filter(([k]) => k.startsWith('dense: '))
        .map(([k, v]) => [k.slice(7), v]),
    ),
    untrained_sweep: Object.fromEntries(
      Object.entries(systems)
        .filter(([k]) => k.startsWith('sweep: '))
        .map(([k, v]) => [k.slice(7), v]),
    ),
    default_with_adapted_embedder: systems['default + adapted embedder'],
    ltr_with_adapted_embedder: systems['ltr + adapted embedder'],
    candidate_pool_recall: candidateRecall,
    default_config: {
      dense: served.name,
      fusion,
      typo_corrected_share: round(corrections / queries.length),
      paraphrase: paraphrases ? { share_of_queries: round(paraphrased / queries.length) } : 'off',
    },
    queries: queries.length,
    corpus: corpus.length,
  };
  console.log(JSON.stringify(json));
}

const round = (x: number) => Number(x.toFixed(4));

main().catch((error) => {
  console.error((error as Error).stack ?? error);
  process.exit(1);
});
