/**
 * Offline evaluation of the hybrid recommender against baselines, on real data, in one run.
 *
 *   npm run eval:recommender -- --dataset movielens-100k --data ../shared/data/movielens-100k [--epochs 30] [--save models/recommender]
 *
 * Inputs: MovieLens 100K (u.data, u.item, u.user, u.occupation) read from --data; item content is
 * the genres, the film's release age when training ends, and the title embedded with USE-lite
 * (cached in .cache/). Protocols, with the same seeded negatives for every system:
 *   - leave-one-out: each user's latest interaction against 99 sampled negatives → HR@10, NDCG@10
 *   - full ranking over every item the user has not trained on → Recall@20, NDCG@20
 *   - cold items: 10 % of items have all their interactions hidden from training; each user's
 *     latest cold interaction against 99 other cold items → HR@10 (random: 0.10). 5 % more are
 *     hidden the same way as cold validation items (each against 49 others), where the sequence
 *     model's cold-start prior chooses its weight.
 * Before the test item every system also knows the validation item (a history-reading model takes
 * it as input with its trained weights; the others are refit on train + validation with the
 * settings validation chose), as SASRec's protocol and as serving, which reads every stored event.
 * Systems: the sequence-aware model (causal self-attention user tower); the hybrid two-tower model; EASE (λ chosen on the validation items); EASE with the
 * history weighted by recency (`ease_recent`, its weighting chosen the same way); BPR-MF tuned
 * on the validation items (dimensions, regularisation, epochs); item-kNN; popularity.
 * Output: a markdown table, then one JSON line (the last line of stdout).
 */
import { cachedEmbeddings } from '../eval/embedding-cache.ts';
import { hitAt, mean, ndcgAtSingle, rankOf } from '../util/ranking-metrics.ts';
import { loadMovieLens } from '../eval/movielens.ts';
import { BprMfRecommender, ItemKnnRecommender, PopularityRecommender, type Recommender } from '../recommend/baselines.ts';
import { leaveOneOut, sampleNegatives, type EvalSplit, type Interaction, warmItems, withNegativesFrom } from '../recommend/interactions.ts';
import { ageFeatures, randomProjection, standardised } from '../recommend/features.ts';
import { chooseNeighbourCount, neighbourPopularity } from '../recommend/neighbour-popularity.ts';
import { TwoTowerRecommender } from '../recommend/two-tower.ts';
import { SequenceRecommender } from '../recommend/sequence-recommender.ts';
import { WithColdStartPrior } from '../recommend/cold-start-prior.ts';
import { EaseRecommender } from '../recommend/ease.ts';
import { chooseOnValidation } from '../recommend/tuning.ts';
import { saveRecommender } from '../recommend/artifacts.ts';
import { parseCliArgs } from '../util/cli-args.ts';

/** Every system, in the table's order; `--systems a,b` runs a subset. */
const SYSTEMS = ['sequence', 'hybrid', 'ease', 'ease_recent', 'bpr_mf', 'item_knn', 'popularity'];

interface Scores {
  hr10: number;
  ndcg10: number;
  recall20: number;
  /** NDCG@20 of the held-out item in the same full ranking. */
  ndcg20_full: number;
  cold_hr10: number;
}

function evaluate(r: Recommender, split: EvalSplit, history: readonly Interaction[], testNeg: number[][], coldNeg: number[][]): Scores {
  const ranks = split.test.map((x, k) => {
    const cands = [x.item, ...testNeg[k]!];
    return rankOf(x.item, cands, r.score(x.user, cands));
  });
  const trainedBy = Array.from({ length: split.numUsers }, () => new Set<number>());
  for (const x of history) trainedBy[x.user]!.add(x.item);
  const warm = warmItems(split);
  const fullRanks = split.test.map((x) => {
    const cands = warm.filter((i) => !trainedBy[x.user]!.has(i));
    return rankOf(x.item, cands, r.score(x.user, cands));
  });
  const cold = split.coldTest.map((x, k) => {
    const cands = [x.item, ...coldNeg[k]!];
    return hitAt(rankOf(x.item, cands, r.score(x.user, cands)), 10);
  });
  return {
    hr10: mean(ranks.map((r) => hitAt(r, 10))),
    ndcg10: mean(ranks.map((r) => ndcgAtSingle(r, 10))),
    recall20: mean(fullRanks.map((r) => hitAt(r, 20))),
    ndcg20_full: mean(fullRanks.map((r) => ndcgAtSingle(r, 20))),
    cold_hr10: mean(cold),
  };
}

async function main(): Promise<void> {
  const a = parseCliArgs();
  const dataset = a.dataset ?? 'movielens-100k';
  if (dataset !== 'movielens-100k') throw new Error(`--dataset: only movielens-100k is supported, got '${dataset}'`);
  if (!a.data) throw new Error('--data: the folder of MovieLens 100K is required, e.g. --data ../shared/data/movielens-100k');
  const started = Date.now();
  const ml = await loadMovieLens(a.data);
  // 5 % more items leave training as cold validation items: the cold-start prior's weight is chosen on them.
  const split = leaveOneOut(ml.interactions, ml.numUsers, ml.numItems, { coldShare: 0.1, coldValidationShare: 0.05, seed: 2017 });
  const warmPool = warmItems(split);
  const testNeg = sampleNegatives(split.test, split.seen, warmPool, 99, 1);
  const valNeg = sampleNegatives(split.validation, split.seen, warmPool, 99, 2);
  const { heldOut: coldUsable, negatives: coldNeg } = withNegativesFrom(split.coldTest, split.seen, [...split.coldItems], 99, 3);
  const coldSplit = { ...split, coldTest: coldUsable };
  // Fewer cold validation items than cold test ones: each against 49 others.
  const coldValidation = withNegativesFrom(split.coldValidation, split.seen, [...split.coldValidationItems], 49, 4);

  // Content: genre flags, the release age and the title's sentence embedding (year stripped).
  const titleVectors = await cachedEmbeddings(ml.titles.map((t) => t.replace(/\s*\(\d{4}\)\s*$/, '')));
  const titles64 = randomProjection(titleVectors, 64);
  // A cold item's expected popularity from its title neighbours (k chosen on the training counts alone).
  const trainCounts = new Float64Array(ml.numItems);
  for (const x of split.train) trainCounts[x.item]!++;
  const neighbourChoice = chooseNeighbourCount(titleVectors, trainCounts);
  const neighbourPop = standardised(neighbourPopularity(titleVectors, trainCounts, neighbourChoice.k));
  process.stderr.write(`neighbour popularity: k ${neighbourChoice.k} (${JSON.stringify(neighbourChoice.tried)})\n`);
  // Each film's age when training ends (the latest training interaction).
  const trainEnd = split.train.reduce((t, x) => Math.max(t, x.ts), 0);
  const ages = ml.releaseDates.map((d) => ageFeatures(d === undefined ? undefined : (trainEnd - d) / 86_400_000));
  const itemContent = ml.genres.map((g, i) => Float32Array.from([...g, ...ages[i]!, ...titles64[i]!, neighbourPop[i]!]));
  const userFeatures = ml.userFeatures.map((f) => Float32Array.from(f));

  const wanted = new Set((a.systems ?? SYSTEMS.join(',')).split(',').map((x) => x.trim()));
  for (const name of wanted) if (!SYSTEMS.includes(name)) throw new Error(`--systems: unknown system '${name}' (one of ${SYSTEMS.join(', ')})`);
  const hybrid = new TwoTowerRecommender(
    { itemContent, userFeatures },
    { heldOut: split.validation, negatives: valNeg },
    {
      ...(a.epochs && { maxEpochs: Number(a.epochs) }),
    },
  );
  // EASE's λ (and the recency variant's weighting) are chosen on the validation items, never the test ones.
  const validation = { heldOut: split.validation, negatives: valNeg };
  const ease = new EaseRecommender(validation);
  const easeRecent = new EaseRecommender(validation, { recency: { decays: [0.99, 0.97, 0.93, 0.85], floors: [0, 0.25, 0.5] } });
  const data = { train: split.train, numUsers: ml.numUsers, numItems: ml.numItems, validation };
  // BPR-MF tuned: dimensions, regularisation and epochs by validation HR@10 (seeded SGD).
  const bprGrid = [64, 128].flatMap((dims) => [0.0003, 0.003].flatMap((regularization) => [40, 80].map((epochs) => ({ dims, regularization, epochs }))));
  if (wanted.has('bpr_mf')) process.stderr.write('tuning bpr_mf on the validation items…\n');
  const bpr = wanted.has('bpr_mf')
    ? await chooseOnValidation(
        bprGrid,
        (o) => new BprMfRecommender(o),
        data,
        (line) => process.stderr.write(`${line}\n`),
      )
    : undefined;
  const sequenceModel = new SequenceRecommender({ itemContent, userFeatures }, validation, {
    ...(a.epochs && { maxEpochs: Number(a.epochs) }),
  });
  const sequence = new WithColdStartPrior(sequenceModel, neighbourPop, coldValidation);
  const systems: Recommender[] = [
    sequence,
    hybrid,
    ease,
    easeRecent,
    ...(bpr ? [bpr.recommender] : []),
    new ItemKnnRecommender(),
    new PopularityRecommender(),
  ].filter((r) => wanted.has(r.name));
  const refit: Record<string, () => Recommender> = {
    ease: () => new EaseRecommender(validation, { lambdas: [ease.chosen!.lambda] }),
    ease_recent: () =>
      new EaseRecommender(validation, {
        lambdas: [easeRecent.chosen!.lambda],
        recency: { decays: [easeRecent.chosen!.decay!], floors: [easeRecent.chosen!.floor!] },
      }),
    bpr_mf: () => new BprMfRecommender(bpr!.settings),
    item_knn: () => new ItemKnnRecommender(),
    popularity: () => new PopularityRecommender(),
  };
  const results: Record<string, Scores> = {};
  for (const system of systems) {
    const t0 = Date.now();
    process.stderr.write(`training ${system.name}…\n`);
    if (system !== bpr?.recommender) await system.fit(split.train, ml.numUsers, ml.numItems); // the tuned BPR is fitted already
    // Before the test item every system knows the validation item too: models that read a history
    // take it as input with their trained weights; the others are refit on train + validation
    // with the settings validation chose (nothing is chosen on the refit).
    const beforeTest = [...split.train, ...split.validation];
    let tested = system;
    if (system.observe) await system.observe(beforeTest);
    else {
      tested = refit[system.name]!();
      await tested.fit(beforeTest, ml.numUsers, ml.numItems);
    }
    results[system.name] = evaluate(tested, coldSplit, beforeTest, testNeg, coldNeg);
    process.stderr.write(`  ${system.name}: ${JSON.stringify(results[system.name])} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }

  if (a.save) {
    await saveRecommender(a.save, hybrid, {
      dataset,
      interactions: ml.interactions,
      metrics: results.hybrid!,
      features: {
        item_content: [
          'genres[19]',
          'release age when training ends[10]: one-hot band (<0.5, 1, 2, 3, 5, 10, 20, ≥20 years), unknown flag, log(1 + years) / 3',
          'use-lite@1 title[512] → seeded random projection[64] (seed 7)',
          `neighbour popularity[1]: mean log(1 + training interactions) of the ${neighbourChoice.k} nearest titles, standardised`,
        ],
        user_features: ['age_band[7]', 'gender[2]', 'occupation[21]'],
        user_history: 'mean item_content of the history',
      },
    });
    process.stderr.write(`saved the hybrid model to ${a.save}\n`);
  }

  const f = (x: number) => x.toFixed(4);
  console.log(
    `\n### ${dataset}: ${split.test.length} test users, ${ml.numItems} items, ${split.coldItems.size} cold items (${coldUsable.length} cold test users), ${split.coldValidationItems.size} cold validation items (${coldValidation.heldOut.length} users); ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log('| system | HR@10 | NDCG@10 | Recall@20 (full ranking) | NDCG@20 (full ranking) | cold-item HR@10 |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, s] of Object.entries(results))
    console.log(`| ${name} | ${f(s.hr10)} | ${f(s.ndcg10)} | ${f(s.recall20)} | ${f(s.ndcg20_full)} | ${f(s.cold_hr10)} |`);
  const round = (s: Scores) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v.toFixed(4))]));
  console.log(
    JSON.stringify({
      dataset,
      protocol:
        'leave-one-out, 99 sampled negatives (seeded, shared); full-ranking Recall@20 and NDCG@20; cold items 10 % (test) + 5 % (validation, 49 negatives)',
      systems: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, round(v)])),
      chosen_on_validation: {
        ...(sequenceModel.report && {
          sequence: {
            epochs: sequenceModel.report.bestEpoch + 1,
            validationHr10: sequenceModel.report.validationHr10.map((x) => Number(x.toFixed(4))),
            learningRates: sequenceModel.report.learningRates,
            settings: { ...sequenceModel.options, progress: undefined },
            cold_start_prior: { neighbours: neighbourChoice, ...sequence.chosen, cold_validation_users: coldValidation.heldOut.length },
          },
        }),
        ease: ease.chosen,
        ease_recent: easeRecent.chosen,
        ...(bpr && { bpr_mf: { ...bpr.settings, validationHr10: Number(bpr.validationHr10.toFixed(4)), tried: bpr.tried } }),
      },
    }),
  );
}

main().catch((error) => {
  console.error((error as Error).message ?? error);
  process.exit(1);
});
