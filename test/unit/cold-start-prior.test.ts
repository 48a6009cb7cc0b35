/**
 * The cold-start prior: a cold item's expected popularity is its text neighbours' (never its own),
 * the neighbour count is chosen on the training counts alone, and the prior moves only the scores
 * of items without interactions, at the weight cold validation items choose.
 */
import { describe, expect, it } from 'vitest';
import type { Recommender } from '../../src/recommend/baselines.ts';
import { WithColdStartPrior } from '../../src/recommend/cold-start-prior.ts';
import { type Interaction, leaveOneOut } from '../../src/recommend/interactions.ts';
import { chooseNeighbourCount, neighbourPopularity } from '../../src/recommend/neighbour-popularity.ts';

// Two topics on the axes: items 0–2 and 6 point along x, items 3–5 and 7 along y.
const vectors = [
  [1, 0],
  [0.9, 0.1],
  [0.95, 0.05],
  [0, 1],
  [0.1, 0.9],
  [0.05, 0.95],
  [0.97, 0.03],
  [0.02, 0.98],
].map((v) => Float32Array.from(v));
// The x topic is popular, the y topic is not; items 6 and 7 have no interactions yet.
const counts = [50, 40, 60, 2, 1, 3, 0, 0];

describe('neighbourPopularity', () => {
  it('estimates an item from its nearest items with interactions, never from itself', () => {
    const p = neighbourPopularity(vectors, counts, 2);
    expect(p[6]).toBeGreaterThan(p[7]!);
    // Item 0's estimate is its two nearest others' (items 2 and 6 → 6 has no interactions, so 2 and 1).
    expect(p[0]).toBeCloseTo((Math.log1p(60) + Math.log1p(40)) / 2, 5);
  });

  it('chooses the neighbour count from the counts it is given, and reports every one tried', () => {
    const choice = chooseNeighbourCount(vectors, counts, [1, 2], 1);
    expect(choice.tried.map((t) => t.k)).toEqual([1, 2]);
    expect([1, 2]).toContain(choice.k);
  });
});

/** Ranks items by id, item 0 last, with interactions or not. */
class ById implements Recommender {
  readonly name = 'by-id';
  async fit(): Promise<void> {}
  async observe(): Promise<void> {}
  score(_user: number, items: readonly number[]): Float32Array {
    return Float32Array.from(items, (i) => 1 + 0.001 * i);
  }
}

describe('WithColdStartPrior', () => {
  it('moves only untrained items, by the weight the cold validation items choose', async () => {
    // Items 0 and 1 have interactions; 2–13 do not. The model ranks item 2 last of the cold ones.
    const train: Interaction[] = [
      { user: 0, item: 0, ts: 1 },
      { user: 0, item: 1, ts: 2 },
    ];
    const prior = new Float32Array(14);
    prior[0] = 10;
    prior[2] = 10;
    // On the cold validation item 2 the prior is right: only a positive weight brings it to the top.
    const coldValidation = { heldOut: [{ user: 0, item: 2, ts: 3 }], negatives: [[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]] };
    const r = new WithColdStartPrior(new ById(), prior, coldValidation, [0, 1]);
    await r.fit(train, 1, 14);
    expect(r.chosen!.tried).toEqual([
      { weight: 0, validationMrr: Math.round(10_000 / 12) / 10_000, validationHr10: 0 },
      { weight: 1, validationMrr: 1, validationHr10: 1 },
    ]);
    expect(r.chosen!.weight).toBe(1);
    const [s0, s1, s2, s13] = r.score(0, [0, 1, 2, 13]);
    expect([s0, s1]).toEqual([1, Math.fround(1.001)]); // trained items keep the model's scores, prior or not
    expect(s2!).toBeGreaterThan(s13!);
  });
});

describe('leaveOneOut with cold validation items', () => {
  it('keeps the cold test items, and hides the cold validation items from training', () => {
    const all: Interaction[] = [];
    for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) if ((u + i) % 3 === 0) all.push({ user: u, item: i, ts: u * 100 + i });
    const without = leaveOneOut(all, 30, 20, { coldShare: 0.1, seed: 5 });
    const withVal = leaveOneOut(all, 30, 20, { coldShare: 0.1, coldValidationShare: 0.1, seed: 5 });
    expect([...withVal.coldItems]).toEqual([...without.coldItems]);
    expect(withVal.coldValidationItems.size).toBe(2);
    for (const i of withVal.coldValidationItems) expect(withVal.coldItems.has(i)).toBe(false);
    const inTraining = new Set([...withVal.train, ...withVal.validation, ...withVal.test].map((x) => x.item));
    for (const i of withVal.coldValidationItems) expect(inTraining.has(i)).toBe(false);
    expect(withVal.coldValidation.every((x) => withVal.coldValidationItems.has(x.item))).toBe(true);
    expect(withVal.coldValidation.length).toBeGreaterThan(0);
  });
});
