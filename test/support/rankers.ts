import { saveRanker } from '../../src/ranking/artifacts.ts';
import { RANKING_FEATURES } from '../../src/ranking/features.ts';
import { LearnedRanker, type RankingList } from '../../src/ranking/ranker.ts';
import { seededRandom } from '../../src/util/random.ts';

/**
 * Trains a small ranker on synthetic lists whose gains are one feature's value (it learns to order
 * by that feature) and saves it to `dir` as the engine loads rankers.
 */
export async function saveSyntheticRanker(
  dir: string,
  feature: (typeof RANKING_FEATURES)[number],
  options: { seed: number; lists: number; epochs: number; idf?: Record<string, number> },
): Promise<void> {
  const rand = seededRandom(options.seed);
  const at = RANKING_FEATURES.indexOf(feature);
  const list = (): RankingList => {
    const features = Array.from({ length: 20 }, () => Float32Array.from(RANKING_FEATURES, () => rand()));
    return { features, gains: features.map((f) => f[at]!) };
  };
  const ranker = new LearnedRanker({ progress: false, maxEpochs: options.epochs, listSize: 20 });
  await ranker.fit(Array.from({ length: options.lists }, list), Array.from({ length: Math.round(options.lists / 5) }, list));
  await saveRanker(dir, ranker, { training: { data: 'synthetic' }, metrics: {}, idf: options.idf ?? {} });
}
