/**
 * Search relevance on graded judgments: BM25, dense, RRF and the learned ranker, side by side.
 *
 *   npm run eval:ranking -- --train ../shared/data/home-depot/judgments.csv [--test <csv>] [--folds 5] [--queries N] [--save models/ranker]
 *
 * Inputs: CSV files shaped like judgments.csv (id, product_uid, product_title, search_term,
 * relevance 1–3). The corpus is every distinct product title in the given files, embedded with
 * USE-lite (cached in .cache/) and indexed in LanceDB (temp dir) like coupons. Gain = (relevance − 1) / 2.
 * Without --test: k-fold by query over --train. Score ties break by a hash of the product id.
 * With --save: after the evaluation, one more ranker trained on every query is saved there.
 * Output: a markdown table, then one JSON line (the last line of stdout).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { completeCoupon, couponSchema } from '../domain/coupon.ts';
import { dot } from '../embed/embedder.ts';
import { idfLookup, idfTable, prepareQuery, rankingFeatures, RANKING_FEATURES, RANKING_FEATURES_VERSION } from '../ranking/features.ts';
import { saveRanker } from '../ranking/artifacts.ts';
import { LearnedRanker, type RankingList } from '../ranking/ranker.ts';
import { COUPON_TEXT_VERSION } from '../text/coupon-text.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { ProgressBar } from '../util/progress.ts';
import { seededRandom, shuffle } from '../util/random.ts';
import { cachedEmbeddings } from '../eval/embedding-cache.ts';
import { corpusOf, loadJudgments, type Judgment } from '../eval/home-depot.ts';
import { mean, ndcg, tieHash } from '../util/ranking-metrics.ts';
import { loadConfig } from '../config.ts';
import { createStore } from '../store/create-store.ts';

const K = 100;
const RRF_K = 60;
const SYSTEMS = ['bm25', 'dense', 'rrf', 'ltr'] as const;
type System = (typeof SYSTEMS)[number];

interface Candidate {
  id: string;
  title: string;
  dense?: { rank: number; score: number };
  bm25?: { rank: number; score: number };
  fusedRank: number;
  fused: number;
}

interface QueryData {
  query: string;
  judged: Map<string, number>;
  /** Whole-corpus candidates (top K of each retriever, fused). */
  pool: Candidate[];
  /** The judged products only, with the same signals computed among them. */
  judgedPool: Candidate[];
}

const gainOf = (relevance: number) => (relevance - 1) / 2;

function fuse(dense: Array<{ id: string; score: number }>, bm25: Array<{ id: string; score: number }>, titles: Map<string, string>): Candidate[] {
  const byId = new Map<string, Candidate>();
  const get = (id: string) => byId.get(id) ?? byId.set(id, { id, title: titles.get(id)!, fusedRank: 0, fused: 0 }).get(id)!;
  dense.forEach((h, i) => (get(h.id).dense = { rank: i + 1, score: h.score }));
  bm25.forEach((h, i) => (get(h.id).bm25 = { rank: i + 1, score: h.score }));
  const list = [...byId.values()];
  for (const c of list) c.fused = (c.dense ? 1 / (RRF_K + c.dense.rank) : 0) + (c.bm25 ? 1 / (RRF_K + c.bm25.rank) : 0);
  list.sort((a, b) => b.fused - a.fused || tieHash(b.id) - tieHash(a.id));
  list.forEach((c, i) => (c.fusedRank = i + 1));
  return list;
}

function order(c: Candidate[], score: (c: Candidate) => number, keep: (c: Candidate) => boolean = () => true): string[] {
  return c
    .filter(keep)
    .map((x) => ({ id: x.id, s: score(x) }))
    .sort((a, b) => b.s - a.s || tieHash(b.id) - tieHash(a.id))
    .map((x) => x.id);
}

async function main(): Promise<void> {
  const a = parseCliArgs();
  if (!a.train) throw new Error('--train: a judgments CSV is required, e.g. --train ../shared/data/home-depot/judgments.csv');
  const train = await loadJudgments(a.train);
  const test = a.test ? await loadJudgments(a.test) : [];
  const folds = Number(a.folds ?? 5);
  const started = Date.now();

  const all = [...train, ...test];
  const corpus = corpusOf(all);
  // Titles by the store's ids (products are stored as coupons `p<product_uid>`).
  const titles = new Map(corpus.map((c) => [productIdToCoupon(c.id), c.title]));
  const vectors = await cachedEmbeddings(corpus.map((c) => c.title));
  const vectorOf = new Map(corpus.map((c, i) => [c.id, vectors[i]!]));

  const dir = await mkdtemp(path.join(os.tmpdir(), 'eval-ranking-'));
  const store = createStore({ ...(loadConfig({}).store as { kind: 'embedded'; annThreshold: number; readConsistencyMs: number; rowCacheSize: number }), dir });
  try {
    await store.open({ embedderId: 'use-lite@1', dims: 512, textVersion: COUPON_TEXT_VERSION });
    const bar = new ProgressBar(`indexing ${corpus.length} products`, corpus.length);
    for (let i = 0; i < corpus.length; i += 5000) {
      await store.upsert(corpus.slice(i, i + 5000).map((p, j) => ({ vector: vectors[i + j]!, coupon: productCoupon(p.id, p.title) })));
      bar.update(Math.min(corpus.length, i + 5000));
    }
    await store.optimize();

    const group = (js: Judgment[]) => {
      const m = new Map<string, Map<string, number>>();
      for (const j of js) (m.get(j.query) ?? m.set(j.query, new Map()).get(j.query)!).set(j.productId, gainOf(j.relevance));
      return m;
    };
    const trainQ = group(train),
      testQ = group(test);
    let queryTexts = [...new Set([...trainQ.keys(), ...testQ.keys()])];
    if (a.queries) queryTexts = shuffle(seededRandom(1), queryTexts).slice(0, Number(a.queries));
    const queryVectors = await cachedEmbeddings(queryTexts);
    const data = new Map<string, QueryData>();
    const qbar = new ProgressBar('retrieving', queryTexts.length);
    for (const [i, query] of queryTexts.entries()) {
      const judged = testQ.get(query) ?? trainQ.get(query)!;
      const qv = queryVectors[i]!;
      const [dense, bm25] = await Promise.all([store.knn(qv, { k: K }), store.lexical(query, { k: K })]);
      const ids = [...judged.keys()];
      const bm25Judged = await store.lexical(query, { k: ids.length, filter: { id: ids.map(productIdToCoupon) } });
      const denseJudged = ids.map((id) => ({ id: productIdToCoupon(id), score: dot(qv, vectorOf.get(id)!) })).sort((x, y) => y.score - x.score);
      data.set(query, {
        query,
        judged: new Map([...judged].map(([id, g]) => [productIdToCoupon(id), g])),
        pool: fuse(dense, bm25, titles),
        judgedPool: fuse(denseJudged, bm25Judged, titles),
      });
      qbar.tick();
    }

    const idfs = idfTable(corpus.map((c) => c.title));
    const idf = idfLookup(idfs);
    const features = (q: QueryData, pool: Candidate[]) => {
      const pq = prepareQuery(q.query, { idf, maxBm25: Math.max(0, ...pool.map((c) => c.bm25?.score ?? 0)) });
      return pool.map((c) => rankingFeatures(pq, { title: c.title, dense: c.dense, bm25: c.bm25, fusedRank: c.fusedRank }));
    };
    const listOf = (q: QueryData): RankingList => ({ features: features(q, q.pool), gains: q.pool.map((c) => q.judged.get(c.id) ?? 0) });

    // Folds by query (seeded), or the --test file's queries.
    const queries = [...data.keys()];
    const foldOf = new Map<string, number>();
    if (test.length) for (const q of queries) foldOf.set(q, testQ.has(q) ? 0 : -1);
    else shuffle(seededRandom(42), [...queries]).forEach((q, i) => foldOf.set(q, i % folds));
    const rounds = test.length ? 1 : folds;

    const perQuery: Record<System, { ndcg10: number[]; condensed: number[]; recall100: number[]; rerank5: number[]; rerank10: number[] }> = Object.fromEntries(
      SYSTEMS.map((s) => [s, { ndcg10: [], condensed: [], recall100: [], rerank5: [], rerank10: [] }]),
    ) as never;
    const squaredErrors: number[] = [];
    for (let f = 0; f < rounds; f++) {
      const testQueries = queries.filter((q) => foldOf.get(q) === f);
      const trainQueries = shuffle(
        seededRandom(f + 7),
        queries.filter((q) => foldOf.get(q) !== f),
      );
      const cut = Math.floor(trainQueries.length * 0.9);
      const ranker = new LearnedRanker({ progress: true });
      process.stderr.write(
        `fold ${f + 1}/${rounds}: training on ${cut} queries, validating on ${trainQueries.length - cut}, testing on ${testQueries.length}\n`,
      );
      await ranker.fit(
        trainQueries.slice(0, cut).map((q) => listOf(data.get(q)!)),
        trainQueries.slice(cut).map((q) => listOf(data.get(q)!)),
      );

      // Calibration: relevance ≈ α + β · score, fitted on the training queries' judged products.
      const pairs: Array<[number, number]> = [];
      for (const q of trainQueries.slice(0, cut)) {
        const d = data.get(q)!;
        const s = ranker.scoreSync(features(d, d.judgedPool));
        d.judgedPool.forEach((c, i) => pairs.push([s[i]!, 1 + 2 * d.judged.get(c.id)!]));
      }
      const mx = mean(pairs.map((p) => p[0])),
        my = mean(pairs.map((p) => p[1]));
      const beta =
        pairs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) /
        Math.max(
          1e-9,
          pairs.reduce((s, [x]) => s + (x - mx) ** 2, 0),
        );
      const alpha = my - beta * mx;

      for (const q of testQueries) {
        const d = data.get(q)!;
        const gains = [...d.judged.values()];
        const gain = (id: string) => d.judged.get(id) ?? 0;
        const s = ranker.scoreSync(features(d, d.pool));
        const ltrScores = new Map(d.pool.map((c, i) => [c.id, s[i]!]));
        const rankings: Record<System, string[]> = {
          bm25: order(
            d.pool,
            (c) => c.bm25?.score ?? -Infinity,
            (c) => !!c.bm25,
          ),
          dense: order(
            d.pool,
            (c) => c.dense?.score ?? -Infinity,
            (c) => !!c.dense,
          ),
          rrf: order(d.pool, (c) => c.fused),
          ltr: order(d.pool, (c) => ltrScores.get(c.id)!),
        };
        const relevant = new Set([...d.judged].filter(([, g]) => g >= (2.33 - 1) / 2 - 1e-9).map(([id]) => id));
        const sj = ranker.scoreSync(features(d, d.judgedPool));
        const judgedScores = new Map(d.judgedPool.map((c, i) => [c.id, sj[i]!]));
        const rerank: Record<System, string[]> = {
          bm25: order(d.judgedPool, (c) => c.bm25?.score ?? 0),
          dense: order(d.judgedPool, (c) => c.dense?.score ?? 0),
          rrf: order(d.judgedPool, (c) => c.fused),
          ltr: order(d.judgedPool, (c) => judgedScores.get(c.id)!),
        };
        for (const sys of SYSTEMS) {
          const ranked = rankings[sys];
          perQuery[sys].ndcg10.push(ndcg(ranked.map(gain), 10, gains));
          perQuery[sys].condensed.push(ndcg(ranked.filter((id) => d.judged.has(id)).map(gain), 10, gains));
          if (relevant.size) perQuery[sys].recall100.push(ranked.slice(0, 100).filter((id) => relevant.has(id)).length / relevant.size);
          if (d.judged.size >= 3) {
            perQuery[sys].rerank5.push(ndcg(rerank[sys].map(gain), 5, gains));
            perQuery[sys].rerank10.push(ndcg(rerank[sys].map(gain), 10, gains));
          }
        }
        for (const [id, score] of judgedScores) squaredErrors.push((alpha + beta * score - (1 + 2 * d.judged.get(id)!)) ** 2);
      }
    }

    const systems = Object.fromEntries(
      SYSTEMS.map((s) => [
        s,
        {
          ndcg10: round(mean(perQuery[s].ndcg10)),
          ndcg10_condensed: round(mean(perQuery[s].condensed)),
          recall100: round(mean(perQuery[s].recall100)),
          rerank_ndcg5: round(mean(perQuery[s].rerank5)),
          rerank_ndcg10: round(mean(perQuery[s].rerank10)),
        },
      ]),
    ) as unknown as Record<System, Record<string, number>>;
    const rmse = round(Math.sqrt(mean(squaredErrors)));
    console.log(
      `\n### ${test.length ? 'train → test' : `${folds}-fold by query`}: ${queries.length} queries, corpus ${corpus.length} products, features v${RANKING_FEATURES_VERSION} (${RANKING_FEATURES.length}; the coupon-side ones are constant in judgment data, so not learned); ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
    console.log('| system | NDCG@10 (whole corpus) | NDCG@10 (condensed) | Recall@100 (≥ 2.33) | rerank NDCG@5 | rerank NDCG@10 |');
    console.log('|---|---|---|---|---|---|');
    for (const s of SYSTEMS) {
      const r = systems[s];
      console.log(
        `| ${s} | ${r.ndcg10!.toFixed(4)} | ${r.ndcg10_condensed!.toFixed(4)} | ${r.recall100!.toFixed(4)} | ${r.rerank_ndcg5!.toFixed(4)} | ${r.rerank_ndcg10!.toFixed(4)} |`,
      );
    }
    console.log(`\nLTR calibrated score vs relevance: RMSE ${rmse.toFixed(4)} (predicting the mean: 0.534 on this data)\n`);
    if (a.save) {
      const everything = shuffle(seededRandom(99), [...queries]);
      const cut = Math.floor(everything.length * 0.9);
      const final = new LearnedRanker({ progress: true });
      await final.fit(
        everything.slice(0, cut).map((q) => listOf(data.get(q)!)),
        everything.slice(cut).map((q) => listOf(data.get(q)!)),
      );
      await saveRanker(a.save, final, {
        training: { data: a.train, queries: queries.length, corpus: corpus.length },
        metrics: { ...systems.ltr, rmse },
        idf: idfs,
      });
      process.stderr.write(`saved the ranker to ${a.save}\n`);
    }
    console.log(JSON.stringify({ systems, ltr_rmse: rmse, queries: queries.length, corpus: corpus.length }));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function productIdToCoupon(id: string): string {
  return `p${id}`;
}

/** A product as a coupon, so it goes through the same store: only its title carries text. */
function productCoupon(id: string, title: string) {
  return completeCoupon(
    couponSchema.parse({
      id: productIdToCoupon(id),
      merchant: { id: 'catalogue', name: 'x' },
      title: title.slice(0, 300) || '(untitled)',
      categories: ['product'],
      discount: { kind: 'free_item' },
      valid_from: '2000-01-01T00:00:00Z',
      valid_until: '2100-01-01T00:00:00Z',
      online: true,
      version: 1,
    }),
  );
}

const round = (x: number) => Number(x.toFixed(4));

main().catch((error) => {
  console.error((error as Error).stack ?? error);
  process.exit(1);
});
