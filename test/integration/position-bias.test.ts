/**
 * Position-bias correction on simulated clicks from a known examination curve θ_k = 1 / (k + 1).
 * The logging ranker orders by a feature that has nothing to do with relevance, so clicks taken at
 * face value teach the ranker that feature; estimated propensities and inverse propensity weights
 * must recover the true order better.
 */
import { expect, it } from 'vitest';
import { mean, ndcg } from '../../src/util/ranking-metrics.ts';
import { estimatePropensities, listsFromClicks, type ClickedList } from '../../src/ranking/position-bias.ts';
import { LearnedRanker } from '../../src/ranking/ranker.ts';
import { seededRandom } from '../../src/util/random.ts';

const TRUE_THETA = (k: number) => 1 / (k + 1);
const N = 10;

function world(seed: number, queries: number) {
  const rand = seededRandom(seed);
  return Array.from({ length: queries }, (_, q) => {
    const docs = Array.from({ length: N }, (_, d) => {
      const features = Float32Array.from([rand(), rand(), rand()]);
      // Relevance comes from feature 0; feature 1 is what the old ranker sorted by.
      return { id: `q${q}d${d}`, features, relevance: Math.min(1, Math.max(0, features[0]! * 1.2 - 0.1)) };
    });
    return { query: `q${q}`, docs };
  });
}

function simulateLogs(queries: ReturnType<typeof world>, sessions: number, seed: number): ClickedList[] {
  const rand = seededRandom(seed);
  const logs: ClickedList[] = [];
  for (const q of queries) {
    for (let s = 0; s < sessions; s++) {
      // The logging policy: feature 1 plus noise (the noise puts each pair at several positions).
      const served = [...q.docs].sort((a, b) => b.features[1]! + rand() * 0.6 - (a.features[1]! + rand() * 0.6));
      logs.push({ query: q.query, items: served.map((d, k) => ({ id: d.id, features: d.features, clicked: rand() < TRUE_THETA(k) * d.relevance })) });
    }
  }
  return logs;
}

it('estimates the examination curve from the logs and, weighted by it, learns the true order better than raw clicks', async () => {
  const train = world(1, 300),
    validation = world(2, 60),
    test = world(3, 200);
  const logs = simulateLogs(train, 20, 4),
    validationLogs = simulateLogs(validation, 20, 5);

  const { propensities } = estimatePropensities(logs, { positions: N });
  for (let k = 0; k < 5; k++) expect(Math.abs(propensities[k]! - TRUE_THETA(k)), `θ_${k}`).toBeLessThan(0.08);

  const trainRanker = async (weights?: number[]) => {
    const ranker = new LearnedRanker({ progress: false, maxEpochs: 8, listSize: N, batchLists: 64, seed: 3 });
    await ranker.fit(listsFromClicks(logs, weights), listsFromClicks(validationLogs, weights));
    return ranker;
  };
  const naive = await trainRanker();
  const corrected = await trainRanker(propensities);
  const quality = (r: LearnedRanker) =>
    mean(
      test.map((q) => {
        const s = r.scoreSync(q.docs.map((d) => d.features));
        const gains = q.docs.map((d) => d.relevance);
        return ndcg(
          [...gains.keys()].sort((a, b) => s[b]! - s[a]!).map((i) => gains[i]!),
          5,
          gains,
        );
      }),
    );
  const [naiveNdcg, correctedNdcg] = [quality(naive), quality(corrected)];
  expect(correctedNdcg, `corrected ${correctedNdcg.toFixed(4)} vs naive ${naiveNdcg.toFixed(4)}`).toBeGreaterThan(naiveNdcg + 0.01);
});
