/**
 * Trains the coupon recommender and writes it to models/recommender (or --out).
 *
 *   npm run train:recommender [-- --out models/recommender --epochs 20 --shoppers 400]
 *
 * Inputs: the sample catalogue (seeded, SAMPLE_SIZE coupons) and seeded simulated shoppers
 * (src/sample/shoppers.ts) — positives are clicks, saves and redemptions; coupon texts embedded
 * by the embedder the server runs (EMBEDDER, the static one by default): the item tower reads the
 * store's vectors at serving time, and a model trained on another embedder's space is refused. Each user's latest positive is the test item and the one
 * before it the validation item (early stopping). Output: the two towers, metadata.json (feature
 * schema, dims, data fingerprint, test HR@10 / NDCG@10 against popularity) and vocab.json.
 */
import { loadConfig } from '../config.ts';
import { createEmbedder } from '../embed/create-embedder.ts';
import { hitAt, mean, ndcgAtSingle, rankOf } from '../util/ranking-metrics.ts';
import { generateCatalogue } from '../sample/catalogue.ts';
import { simulateShoppers } from '../sample/shoppers.ts';
import { embeddingText } from '../text/coupon-text.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { saveRecommender } from '../recommend/artifacts.ts';
import { PopularityRecommender, type Recommender } from '../recommend/baselines.ts';
import { COUPON_FEATURES_VERSION, couponFeatures, TEXT_PROJECTION, type CouponFeatureSchema } from '../recommend/coupon-features.ts';
import { leaveOneOut, sampleNegatives, type Interaction } from '../recommend/interactions.ts';
import { TwoTowerRecommender } from '../recommend/two-tower.ts';

const options = parseCliArgs();
const arg = (name: string, fallback: string) => options[name] ?? fallback;

async function main(): Promise<void> {
  const config = loadConfig();
  const out = arg('out', 'models/recommender');
  const catalogue = generateCatalogue({ size: config.sample.size, seed: 42, anchor: new Date('2026-01-01T00:00:00Z') });
  const { shoppers, events } = simulateShoppers(catalogue, { shoppers: Number(arg('shoppers', '400')), end: new Date('2026-01-01T00:00:00Z') });
  const users = shoppers.map((s) => s.id);
  const items = catalogue.map((c) => c.id);
  const userIndex = new Map(users.map((u, i) => [u, i]));
  const itemIndex = new Map(items.map((c, i) => [c, i]));
  const interactions: Interaction[] = events
    .filter((e) => e.type === 'click' || e.type === 'save' || e.type === 'redeem')
    .map((e) => ({ user: userIndex.get(e.user_id)!, item: itemIndex.get(e.coupon_id)!, ts: Date.parse(e.ts) }));

  const embedder = createEmbedder(config.embedder);
  await embedder.ready();
  const text = await embedder.embed(catalogue.map(embeddingText));
  await embedder.close();
  const schema: CouponFeatureSchema = {
    version: COUPON_FEATURES_VERSION,
    categories: [...new Set(catalogue.flatMap((c) => c.categories))].sort(),
    textDims: embedder.dims,
  };
  const itemContent = catalogue.map((c, i) => couponFeatures(schema, c, text[i]!));
  const userFeatures = users.map(() => Float32Array.of(1));
  const merchants = [...new Set(catalogue.map((c) => c.merchant.id))].sort();
  const merchantIndex = new Map(merchants.map((m, i) => [m, i + 1]));
  const itemGroup = Int32Array.from(catalogue, (c) => merchantIndex.get(c.merchant.id)!);

  const split = leaveOneOut(interactions, users.length, items.length, { coldShare: 0, seed: 3 });
  const pool = Array.from({ length: items.length }, (_, i) => i);
  const valNeg = sampleNegatives(split.validation, split.seen, pool, 99, 5);
  const testNeg = sampleNegatives(split.test, split.seen, pool, 99, 6);
  const model = new TwoTowerRecommender(
    { itemContent, userFeatures, itemGroup, itemGroups: merchants.length },
    { heldOut: split.validation, negatives: valNeg },
    { maxEpochs: Number(arg('epochs', '20')) },
  );
  await model.fit(split.train, users.length, items.length);
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
    dataset: `sample catalogue (${catalogue.length} coupons) + ${users.length} simulated shoppers (seeded)`,
    interactions,
    metrics,
    features: {
      item_content: { schema, text_projection: TEXT_PROJECTION, embedder: embedder.id },
      item_group: 'merchant id (vocab.json merchants) → 8-d embedding',
      user_features: ['bias[1]'],
      user_history: "mean item_content of the user's recent clicks, saves and redemptions",
    },
    vocab: { users, items, merchants },
  });
  console.log(JSON.stringify({ out, metrics }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
