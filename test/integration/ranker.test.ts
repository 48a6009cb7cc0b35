/** The learned ranker learns a known order from graded lists (TF.js, listwise softmax loss). */
import { expect, it } from 'vitest';
import { ndcg } from '../../src/util/ranking-metrics.ts';
import { LearnedRanker, type RankingList } from '../../src/ranking/ranker.ts';
import { seededRandom } from '../../src/util/random.ts';

it('recovers the true order when relevance depends on the features', async () => {
  const rand = seededRandom(3);
  // Relevance is driven by feature 0 and, negatively, feature 2; feature 1 is noise.
  const list = (): RankingList => {
    const features = Array.from({ length: 30 }, () => Float32Array.from([rand(), rand(), rand()]));
    return { features, gains: features.map((x) => Math.max(0, Math.min(1, x[0]! - 0.5 * x[2]! + 0.1))) };
  };
  const train = Array.from({ length: 200 }, list),
    validation = Array.from({ length: 40 }, list),
    test = Array.from({ length: 40 }, list);
  const ranker = new LearnedRanker({ progress: false, maxEpochs: 15, listSize: 30, batchLists: 16 });
  await ranker.fit(train, validation);
  const score = (l: RankingList, s: ArrayLike<number>) =>
    ndcg(
      [...l.gains.keys()].sort((a, b) => s[b]! - s[a]!).map((i) => l.gains[i]!),
      10,
      l.gains,
    );
  const learned = test.map((l) => score(l, ranker.scoreSync(l.features)));
  const random = test.map((l) =>
    score(
      l,
      l.features.map(() => rand()),
    ),
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  expect(mean(learned)).toBeGreaterThan(0.95);
  expect(mean(learned)).toBeGreaterThan(mean(random) + 0.2);
});
