/**
 * The sequence recommender end to end on shoppers who walk a fixed route (item i, then i + 1): it
 * learns the next step from the order alone, and the weights it keeps are the averaged ones it
 * validated (Polyak averaging), not the last raw step's. An item's age features: one band each.
 */
import { describe, expect, it } from 'vitest';
import { ageFeatures } from '../../src/recommend/features.ts';
import type { Interaction } from '../../src/recommend/interactions.ts';
import { SequenceRecommender } from '../../src/recommend/sequence-recommender.ts';
import { validationHr10 } from '../../src/recommend/tuning.ts';
import { seededRandom } from '../../src/util/random.ts';

const ITEMS = 40,
  USERS = 80,
  STEPS = 10;

function routes() {
  const rand = seededRandom(3);
  const train: Interaction[] = [],
    heldOut: Interaction[] = [],
    negatives: number[][] = [];
  for (let user = 0; user < USERS; user++) {
    const start = Math.floor(rand() * ITEMS);
    for (let k = 0; k < STEPS; k++) train.push({ user, item: (start + k) % ITEMS, ts: k * 3_600_000 });
    const next = (start + STEPS) % ITEMS;
    heldOut.push({ user, item: next, ts: STEPS * 3_600_000 });
    const seen = new Set(Array.from({ length: STEPS + 1 }, (_, k) => (start + k) % ITEMS));
    negatives.push(
      Array.from({ length: ITEMS }, (_, i) => i)
        .filter((i) => !seen.has(i))
        .slice(0, 19),
    );
  }
  return { train, validation: { heldOut, negatives } };
}

describe('SequenceRecommender', () => {
  it('predicts the next step of a route from the order, and keeps the averaged weights it validated', async () => {
    const { train, validation } = routes();
    const rand = seededRandom(5);
    // Content says nothing about the route: the order must carry it.
    const itemContent = Array.from({ length: ITEMS }, () => Float32Array.from({ length: 4 }, () => rand()));
    const userFeatures = Array.from({ length: USERS }, () => Float32Array.from([1, 0]));
    const model = new SequenceRecommender({ itemContent, userFeatures }, validation, {
      window: 8,
      dims: 16,
      idDims: 8,
      hidden: 16,
      blocks: 1,
      negatives: 16,
      batchSize: 16,
      maxEpochs: 12,
      progress: false,
    });
    await model.fit(train, USERS, ITEMS);
    const report = model.report!;
    const best = Math.max(...report.validationHr10);
    // 1 in 2 would be chance (10 of 20 candidates).
    expect(best).toBeGreaterThan(0.9);
    // The model as left is the one that scored best on validation.
    expect(validationHr10(model, validation)).toBeCloseTo(best, 6);
    expect(report.validationHr10[report.bestEpoch]).toBe(best);
  }, 120_000);
});

describe('ageFeatures', () => {
  it('puts an age in one band, flags an unknown one, and grows with the years', () => {
    const days = [30, 400, 1000, 5000, 20_000];
    const rows = days.map((d) => ageFeatures(d));
    const band = (r: Float32Array) => Array.from(r.subarray(0, 8)).indexOf(1);
    expect(rows.map(band)).toEqual([0, 2, 3, 6, 7]);
    for (const r of rows) expect(r.subarray(0, 9).reduce((a, b) => a + b, 0)).toBe(1);
    expect(rows.map((r) => r[9]!)).toEqual([...rows.map((r) => r[9]!)].sort((a, b) => a - b));
    const unknown = ageFeatures(undefined);
    expect(unknown[8]).toBe(1);
    expect(Array.from(unknown).reduce((a, b) => a + b, 0)).toBe(1);
    // A date after the reference counts as new, not as an error.
    expect(band(ageFeatures(-10))).toBe(0);
  });
});
