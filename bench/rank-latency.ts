/**
 * Rescoring latency of the learned ranker: 200 fused candidates → features → one batched model
 * call, as the rank stage does it. The floor is computing the same features without the model.
 *
 *   npm run bench:rank [-- --model models/ranker]
 *
 * Inputs: the sample catalogue's titles as candidates, 50 queries; the saved ranker when --model
 * points at one, else an untrained one of the same shape (latency does not depend on the weights).
 * The features include the engagement after similar past searches, looked up per query in a
 * memory of 100,000 past queries made of catalogue words (`PastQueryEngagement`), timed apart too.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadRanker } from '../src/ranking/artifacts.ts';
import { idfLookup, prepareQuery, RANKING_FEATURES, rankingFeatures } from '../src/ranking/features.ts';
import { PastQueryEngagement } from '../src/ranking/past-queries.ts';
import { LearnedRanker } from '../src/ranking/ranker.ts';
import { seededRandom } from '../src/util/random.ts';
import { tokenize } from '../src/text/tokenize.ts';
import { generateCatalogue } from '../src/sample/catalogue.ts';
import { parseCliArgs } from '../src/util/cli-args.ts';
import { fmt, summarize } from './lib.ts';

const dir = path.resolve(parseCliArgs().model ?? 'models/ranker');
let ranker: LearnedRanker;
let idf = idfLookup({});
let source = 'untrained (same shape)';
if (existsSync(path.join(dir, 'metadata.json'))) {
  const loaded = await loadRanker(dir);
  ranker = loaded.ranker;
  idf = idfLookup(loaded.idf);
  source = `${dir} (${loaded.metadata.version})`;
} else {
  // Fit for one step on random lists just to build the network and its normalisation.
  ranker = new LearnedRanker({ progress: false, maxEpochs: 1, listSize: 10 });
  const list = () => ({
    features: Array.from({ length: 10 }, () => Float32Array.from(RANKING_FEATURES, () => Math.random())),
    gains: Array.from({ length: 10 }, () => Math.random()),
  });
  await ranker.fit([list(), list()], [list()]);
}
const titles = generateCatalogue({ size: 200, seed: 3 }).map((c) => c.title);
const queries = [
  'cheap pizza',
  'oil change near me',
  'massage for two',
  'hotel weekend',
  'kids shoes',
  'dog grooming',
  'yoga pass',
  'sushi dinner',
  'laptop repair',
  'bowling',
];
const candidates = titles.map((title, r) => ({
  title,
  dense: { rank: r + 1, score: 0.5 - r / 1000 },
  bm25: r % 3 ? { rank: r + 1, score: 10 - r / 20 } : undefined,
  fusedRank: r + 1,
}));

// Past searches: one to three words of a catalogue title each, followed by a click or two.
const PAST_QUERIES = 100_000;
const past = new PastQueryEngagement();
const rand = seededRandom(5);
const catalogueWords = titles.map((t) => tokenize(t));
for (let k = 0; past.size < PAST_QUERIES; k++) {
  const words = catalogueWords[Math.floor(rand() * catalogueWords.length)]!;
  const start = Math.floor(rand() * words.length);
  const query = words.slice(start, start + 1 + Math.floor(rand() * 3)).join(' ') + (rand() < 0.9 ? ` ${k}` : '');
  past.add(query, `c${Math.floor(rand() * titles.length)}`, 1 + Math.floor(rand() * 3));
}
const features = (q: string) => {
  const pq = prepareQuery(q, { idf, maxBm25: 10 });
  const affinity = past.affinity(q);
  return candidates.map((c, i) => rankingFeatures(pq, c, { pastQueries: affinity.get(`c${i}`) }));
};
for (let k = 0; k < 50; k++) ranker.scoreSync(features(queries[k % queries.length]!)); // warm-up
const full: number[] = [],
  floor: number[] = [];
for (let k = 0; k < 1000; k++) {
  const q = queries[k % queries.length]!;
  let t = performance.now();
  features(q);
  floor.push(performance.now() - t);
  t = performance.now();
  ranker.scoreSync(features(q));
  full.push(performance.now() - t);
}
const lookups: number[] = [];
for (let k = 0; k < 1000; k++) {
  const t = performance.now();
  past.affinity(queries[k % queries.length]!);
  lookups.push(performance.now() - t);
}
const s = summarize(full),
  f = summarize(floor),
  l = summarize(lookups);
console.log(`\n### Rescoring 200 candidates (features + one batched model call), 1000 runs, ranker: ${source}\n`);
console.log('| | p50 | p95 | p99 (ms) |\n|---|---|---|---|');
console.log(`| features + model | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} |`);
console.log(`| features only (floor) | ${fmt(f.p50)} | ${fmt(f.p95)} | ${fmt(f.p99)} |`);
console.log(`| of which the past-search lookup (${PAST_QUERIES.toLocaleString('en')} past queries) | ${fmt(l.p50)} | ${fmt(l.p95)} | ${fmt(l.p99)} |`);
console.log(`\np99 ${s.p99 <= 5 ? '≤' : '>'} 5 ms budget; model share of p50: ${(((s.p50 - f.p50) / s.p50) * 100).toFixed(0)}%`);
console.log(
  JSON.stringify({
    benchmark: 'rank-latency',
    candidates: 200,
    ranker: source,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    floor_p50: f.p50,
    floor_p99: f.p99,
    past_lookup_p50: l.p50,
    past_lookup_p99: l.p99,
  }),
);
