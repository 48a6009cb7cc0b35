/**
 * Teaches the static embedder the product's own language.
 *
 *   npm run train:embedder -- --bridge [--catalogue coupons.jsonl] [--words N] [--out models/query-bridge]
 *     Fits the query bridge (USE-lite → static space, ridge regression) on the catalogue's texts:
 *     a JSON-lines file of coupons, or by default the sample generator's catalogue, plus the N most
 *     frequent English words (default 0: the catalogue texts alone fit best).
 *
 *   npm run train:embedder -- --from-logs [--since 2026-11-01] [--out models/embedder]
 *   npm run train:embedder -- --judgments ../shared/data/home-depot/judgments.csv [--out models/embedder]
 *     Fine-tunes the word rows and a projection contrastively (in-batch negatives) on query →
 *     coupon pairs, and writes a versioned artifact with metadata. The pairs come from the
 *     product's own served-list logs (each search result a shopper clicked, saved or redeemed,
 *     with the coupon's text from the store) or from graded judgments (relevance ≥ 2.33). The
 *     vector space changes: the store asks for `npm run reindex`; then refit the bridge.
 */
import { spaceOf } from '../store/vector-store.ts';
import { createHash } from 'node:crypto';
import { type Config, loadConfig } from '../config.ts';
import { type Coupon, couponSchema } from '../domain/coupon.ts';
import { fitQueryBridge, saveQueryBridge } from '../embed/query-bridge.ts';
import { type TrainingPair, trainAdaptation } from '../embed/static-vectors/train-adaptation.ts';
import { createEventStore } from '../events/create-event-store.ts';
import { OUTCOME_GAIN } from '../ranking/train-from-logs.ts';
import { createStore } from '../store/create-store.ts';
import { saveAdaptation } from '../embed/static-vectors/adaptation.ts';
import { StaticVectorEmbedder } from '../embed/static-vectors/static-vector-embedder.ts';
import { UseLiteEmbedder } from '../embed/use-lite/use-lite-embedder.ts';
import { loadJudgments, pairsFromJudgments } from '../eval/home-depot.ts';
import { generateCatalogue } from '../sample/catalogue.ts';
import { embeddingText } from '../text/coupon-text.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { readJsonLines } from '../util/json-lines.ts';
import { ProgressBar } from '../util/progress.ts';

const BRIDGE_RIDGE = 0.1;
/** Frequent English words to add to the catalogue texts: 0, because mixing single words in drowned the phrases ("car service" → "phone repair"). */
const DEFAULT_BRIDGE_WORDS = 0;

async function main(): Promise<void> {
  const a = parseCliArgs();
  const config = loadConfig(process.env);
  if (config.embedder.kind !== 'static') throw new Error(`train:embedder adapts the static embedder; EMBEDDER is ${config.embedder.kind}`);
  if (a.bridge !== undefined) return fitBridge(a, config.embedder);
  if (!a.judgments && a['from-logs'] === undefined)
    throw new Error('pass --bridge, --from-logs, or --judgments <csv> (e.g. ../shared/data/home-depot/judgments.csv)');
  const base = new StaticVectorEmbedder({ cacheDir: config.embedder.cacheDir });
  await base.ready();
  const source = a.judgments ?? `served-list logs (${config.events.kind} event store)`;
  const pairs = a.judgments ? pairsFromJudgments(await loadJudgments(a.judgments)) : await pairsFromLogs(config, base, a.since ? new Date(a.since) : undefined);
  if (pairs.length < 100) throw new Error(`${source}: only ${pairs.length} query → coupon pairs; an adaptation needs a few hundred at least`);
  process.stderr.write(`training on ${pairs.length} query → coupon pairs from ${source}\n`);
  const { adaptation, history, options } = await trainAdaptation(base.wordTable, pairs, { progress: true });
  const out = a.out ?? config.embedder.adaptationDir ?? 'models/embedder';
  await saveAdaptation(out, adaptation, {
    name: 'static-embedder-adaptation',
    version: `1.0.0+${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`,
    created_at: new Date().toISOString(),
    base: { embedder: base.id, table: base.wordTable.fingerprint },
    dims: { in: adaptation.inDims, out: adaptation.outDims },
    words: adaptation.words.length,
    training: { data: source, pairs: pairs.length, fingerprint: pairsFingerprint(pairs), options, history },
    metrics: { final_loss: history.at(-1) ?? null },
  });
  process.stderr.write(`saved the adaptation to ${out}; the vector space changed: run npm run reindex, then refit the bridge (--bridge)\n`);
}

/**
 * Query → coupon pairs from the served-list log: every search result (with query text) that its
 * shopper clicked, saved or redeemed, with the coupon's dense text as the store holds it now.
 */
async function pairsFromLogs(config: Config, embedder: { id: string; dims: number }, since: Date | undefined): Promise<TrainingPair[]> {
  const events = createEventStore(config.events);
  await events.open();
  const wanted: Array<{ query: string; couponId: string }> = [];
  try {
    for await (const list of events.servedOutcomes({ since })) {
      if (list.surface !== 'search' || !list.query.trim()) continue;
      for (const [couponId, outcomes] of Object.entries(list.outcomes))
        if (outcomes.some((o) => o in OUTCOME_GAIN)) wanted.push({ query: list.query, couponId });
    }
  } finally {
    await events.close();
  }
  const store = createStore(config.store);
  // Only coupons are read: the space passed is the one a fresh table would get.
  await store.open(spaceOf(embedder));
  try {
    const coupons = new Map<string, Coupon>();
    const ids = [...new Set(wanted.map((w) => w.couponId))];
    for (let i = 0; i < ids.length; i += 1000) for (const [id, stored] of await store.get(ids.slice(i, i + 1000))) coupons.set(id, stored.coupon);
    return wanted.filter((w) => coupons.has(w.couponId)).map((w) => ({ query: w.query, document: embeddingText(coupons.get(w.couponId)!) }));
  } finally {
    await store.close();
  }
}

function pairsFingerprint(pairs: readonly TrainingPair[]): string {
  const hash = createHash('sha256');
  for (const p of pairs) hash.update(`${p.query}\t${p.document}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** The bridge maps into the space documents are served in: the adapted one when there is an adaptation. */
async function fitBridge(a: Record<string, string>, embedder: { cacheDir: string; adaptationDir: string | undefined }): Promise<void> {
  const documents = new StaticVectorEmbedder(embedder);
  await documents.ready();
  const sentences = new UseLiteEmbedder();
  await sentences.ready();
  const coupons = a.catalogue ? (await readJsonLines<unknown>(a.catalogue)).map((c) => couponSchema.parse(c)) : generateCatalogue({ size: 5000, seed: 7 });
  const texts = [...new Set(coupons.map((c) => embeddingText(c as never)))];
  const words = Number(a.words ?? DEFAULT_BRIDGE_WORDS);
  texts.push(...documents.wordTable.words.slice(0, words));
  const bar = new ProgressBar(`embedding ${texts.length} texts with ${sentences.id}`, texts.length);
  const sources: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) {
    sources.push(...(await sentences.embed(texts.slice(i, i + 64))));
    bar.update(sources.length);
  }
  const targets = await documents.embed(texts);
  const bridge = fitQueryBridge(sources, targets, { source: sentences.id, target: documents.id }, BRIDGE_RIDGE);
  const out = a.out ?? 'models/query-bridge';
  await saveQueryBridge(out, bridge, {
    name: 'query-bridge',
    created_at: new Date().toISOString(),
    source: sentences.id,
    target: documents.id,
    dims: { in: bridge.inDims, out: bridge.outDims },
    ridge: BRIDGE_RIDGE,
    fit: { catalogue: a.catalogue ?? 'sample generator (5,000 coupons, seed 7)', words, texts: texts.length },
  });
  await sentences.close();
  process.stderr.write(`saved the query bridge (${bridge.inDims} → ${bridge.outDims}) to ${out}\n`);
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
