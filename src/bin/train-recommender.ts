/**
 * Trains the coupon recommender and writes it to models/recommender (or --out).
 *
 *   npm run train:recommender [-- --out models/recommender --epochs 20 --shoppers 400]
 *   npm run train:recommender -- --from-events [--since 2026-11-01] [--out DIR]
 *   npm run train:recommender -- --model sequence [--from-events] [--out DIR]
 *
 * Inputs: by default the sample catalogue (seeded, SAMPLE_SIZE coupons) and seeded simulated
 * shoppers (src/sample/shoppers.ts). With --from-events, the product's own data instead: the
 * coupons and their text vectors in the configured store (DATA_DIR or Qdrant) and the clicks,
 * saves and redemptions in the configured event store (the embedded file or PostgreSQL). Coupon
 * texts are embedded by the embedder the server runs (EMBEDDER, the static one by default): the
 * item tower reads the store's vectors at serving time, and a model trained on another embedder's
 * space is refused. Each user's latest positive is the test item and the one before it the
 * validation item (early stopping). Output: the two towers, metadata.json (feature schema, dims,
 * data fingerprint, test HR@10 / NDCG@10 against popularity) and vocab.json. Restart the API and
 * workers to serve it; a reindex gives every stored coupon its new behaviour vector.
 *
 * --model hybrid (default): the two-tower model, whose user tower pools the content of a user's
 * history. --model sequence: the sequence-aware user tower over the last 50 clicks, saves and
 * redemptions in order, with their kinds and gaps (issue 16; `eval:recommender` compares them).
 */
import { loadConfig, type Config } from '../config.ts';
import type { Coupon } from '../domain/coupon.ts';
import type { EventType } from '../domain/event.ts';
import { createEmbedder } from '../embed/create-embedder.ts';
import { createEventStore } from '../events/create-event-store.ts';
import { POSITIVE } from '../events/event-store.ts';
import { saveRecommender } from '../recommend/artifacts.ts';
import { PopularityRecommender, type Recommender } from '../recommend/baselines.ts';
import { COUPON_FEATURES_VERSION, couponFeatures, TEXT_PROJECTION, type CouponFeatureSchema } from '../recommend/coupon-features.ts';
import { leaveOneOut, sampleNegatives, type Interaction } from '../recommend/interactions.ts';
import { SequenceRecommender } from '../recommend/sequence-recommender.ts';
import { TwoTowerRecommender } from '../recommend/two-tower.ts';
import { generateCatalogue } from '../sample/catalogue.ts';
import { simulateShoppers } from '../sample/shoppers.ts';
import { createStore } from '../store/create-store.ts';
import { describeSpace, sameSpace, spaceOf } from '../store/vector-store.ts';
import { embeddingText } from '../text/coupon-text.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { hitAt, mean, ndcgAtSingle, rankOf } from '../util/ranking-metrics.ts';

const options = parseCliArgs();
const arg = (name: string, fallback: string) => options[name] ?? fallback;

/** What the model learns from: coupons with their text vectors, and positive interactions. */
interface TrainingData {
  dataset: string;
  catalogue: Coupon[];
  text: Float32Array[];
  embedderId: string;
  positives: Array<{ userId: string; couponId: string; type: EventType; ts: number }>;
}

/** The sample catalogue and seeded simulated shoppers, texts embedded by the configured embedder. */
async function sampleData(config: Config): Promise<TrainingData> {
  const catalogue = generateCatalogue({ size: config.sample.size, seed: 42, anchor: new Date('2026-01-01T00:00:00Z') });
  const shoppers = Number(arg('shoppers', '400'));
  const { events } = simulateShoppers(catalogue, { shoppers, end: new Date('2026-01-01T00:00:00Z') });
  const embedder = createEmbedder(config.embedder);
  await embedder.ready();
  const text = await embedder.embed(catalogue.map(embeddingText));
  await embedder.close();
  return {
    dataset: `sample catalogue (${catalogue.length} coupons) + ${shoppers} simulated shoppers (seeded)`,
    catalogue,
    text,
    embedderId: embedder.id,
    positives: events.filter((e) => POSITIVE.has(e.type)).map((e) => ({ userId: e.user_id, couponId: e.coupon_id, type: e.type, ts: Date.parse(e.ts) })),
  };
}

/** The product's own coupons (as stored, vectors included) and its logged clicks, saves and redemptions. */
async function productData(config: Config, since: Date | undefined): Promise<TrainingData> {
  // The stored vectors are used as they are; the embedder is loaded only for its space (an
  // adaptation or a model sets its id and dims), which the store's must match.
  const embedder = createEmbedder(config.embedder);
  await embedder.ready();
  await embedder.close();
  const store = createStore(config.store);
  const catalogue: Coupon[] = [];
  const text: Float32Array[] = [];
  try {
    const space = spaceOf(embedder);
    const stored = await store.open(space);
    if (!sameSpace(stored, space))
      throw new Error(`the store holds vectors from ${describeSpace(stored)} but the embedder is ${describeSpace(space)}: reindex first`);
    for await (const batch of store.scan(5000)) {
      for (const d of batch) {
        catalogue.push(d.coupon);
        text.push(d.vector);
      }
    }
  } finally {
    await store.close();
  }
  const events = createEventStore(config.events);
  await events.open();
  const stored = new Set(catalogue.map((c) => c.id));
  const positives: TrainingData['positives'] = [];
  let unknown = 0;
  try {
    for await (const e of events.positiveEvents({ since })) {
      if (stored.has(e.couponId)) positives.push({ userId: e.userId, couponId: e.couponId, type: e.type, ts: Date.parse(e.ts) });
      else unknown++;
    }
  } finally {
    await events.close();
  }
  const users = new Set(positives.map((p) => p.userId)).size;
  process.stderr.write(
    `read ${catalogue.length} coupons from the ${store.kind} store and ${positives.length} clicks, saves and redemptions of ${users} users from the ${events.kind} event store` +
      (unknown ? ` (${unknown} more name coupons no longer stored)\n` : '\n'),
  );
  if (catalogue.length === 0) throw new Error('the store holds no coupons: index the catalogue first');
  if (positives.length === 0) throw new Error('the event store holds no clicks, saves or redemptions of stored coupons to learn from');
  return {
    dataset: `${store.kind} store (${catalogue.length} coupons) + ${events.kind} event store (${positives.length} positives of ${users} users${since ? ` since ${since.toISOString()}` : ''})`,
    catalogue,
    text,
    embedderId: embedder.id,
    positives,
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const out = arg('out', 'models/recommender');
  const kind = arg('model', 'hybrid');
  if (kind !== 'hybrid' && kind !== 'sequence') throw new Error(`--model: '${kind}' is not a model (hybrid or sequence)`);
  const since = options.since ? new Date(options.since) : undefined;
  if (since && Number.isNaN(since.getTime())) throw new Error(`--since: not a date: ${options.since}`);
  const data = options['from-events'] !== undefined ? await productData(config, since) : await sampleData(config);
  const { catalogue, text } = data;
  const users = [...new Set(data.positives.map((p) => p.userId))].sort();
  const items = catalogue.map((c) => c.id);
  const userIndex = new Map(users.map((u, i) => [u, i]));
  const itemIndex = new Map(items.map((c, i) => [c, i]));
  const interactions: Interaction[] = data.positives.map((p) => ({ user: userIndex.get(p.userId)!, item: itemIndex.get(p.couponId)!, ts: p.ts, kind: p.type }));

  const schema: CouponFeatureSchema = {
    version: COUPON_FEATURES_VERSION,
    categories: [...new Set(catalogue.flatMap((c) => c.categories))].sort(),
    textDims: text[0]!.length,
  };
  const itemContent = catalogue.map((c, i) => couponFeatures(schema, c, text[i]!));
  const userFeatures = users.map(() => Float32Array.of(1));
  const merchants = [...new Set(catalogue.map((c) => c.merchant.id))].sort();
  const merchantIndex = new Map(merchants.map((m, i) => [m, i + 1]));
  const itemGroup = Int32Array.from(catalogue, (c) => merchantIndex.get(c.merchant.id)!);

  const split = leaveOneOut(interactions, users.length, items.length, { coldShare: 0, seed: 3 });
  if (split.validation.length === 0) throw new Error('no user has 3 or more clicks, saves or redemptions: too little to validate a model on');
  const pool = Array.from({ length: items.length }, (_, i) => i);
  const valNeg = sampleNegatives(split.validation, split.seen, pool, 99, 5);
  const testNeg = sampleNegatives(split.test, split.seen, pool, 99, 6);
  const features = { itemContent, userFeatures, itemGroup, itemGroups: merchants.length };
  const validation = { heldOut: split.validation, negatives: valNeg };
  const maxEpochs = Number(arg('epochs', kind === 'sequence' ? '40' : '20'));
  const model =
    kind === 'sequence' ? new SequenceRecommender(features, validation, { maxEpochs }) : new TwoTowerRecommender(features, validation, { maxEpochs });
  await model.fit(split.train, users.length, items.length);
  // Before the test item the user's history includes the validation item, as serving reads every stored event.
  if (model instanceof SequenceRecommender) await model.observe([...split.train, ...split.validation]);
  const popularity = new PopularityRecommender();
  await popularity.fit(split.train, users.length, items.length);
  const score = (r: Recommender) => {
    const ranks = split.test.map((x, k) => {
      const cands = [x.item, ...testNeg[k]!];
      return rankOf(x.item, cands, r.score(x.user, cands));
    });
    return { hr10: mean(ranks.map((r) => hitAt(r, 10))), ndcg10: mean(ranks.map((r) => ndcgAtSingle(r, 10))) };
  };
  const metrics = { ...score(model), popularity_hr10: score(popularity).hr10, popularity_ndcg10: score(popularity).ndcg10, test_users: split.test.length };
  await saveRecommender(out, model, {
    dataset: data.dataset,
    interactions,
    metrics,
    features: {
      item_content: { schema, text_projection: TEXT_PROJECTION, embedder: data.embedderId },
      item_group: 'merchant id (vocab.json merchants) → 8-d embedding',
      user_features: ['bias[1]'],
      user_history:
        model instanceof SequenceRecommender
          ? `the item tower's vectors of the user's last ${model.options.window} clicks, saves and redemptions in order, each with its kind, the log gap since the one before and its position`
          : "mean item_content of the user's clicks, saves and redemptions (training); at serving, the recent ones weighted by recency",
    },
    vocab: { users, items, merchants },
  });
  console.log(JSON.stringify({ out, dataset: data.dataset, metrics }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
