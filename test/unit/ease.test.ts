/**
 * EASE's closed form: B = −P / diag(P), P = (XᵀX + λI)⁻¹, zero diagonal — checked against the
 * defining property of P on a small random matrix; and a user's scores sum B over their history,
 * with the recency variant weighing the latest item most.
 */
import { describe, expect, it } from 'vitest';
import { EaseRecommender, easeWeights } from '../../src/recommend/ease.ts';
import type { Interaction } from '../../src/recommend/interactions.ts';
import { seededRandom } from '../../src/util/random.ts';

describe('EASE', () => {
  it('B = −P / diag(P) with P (XᵀX + λI) = I and a zero diagonal', () => {
    const n = 7;
    const rand = seededRandom(3);
    const x = Array.from({ length: 20 }, () => Array.from({ length: n }, () => (rand() < 0.4 ? 1 : 0)));
    const gram = new Float64Array(n * n);
    for (const row of x) for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) gram[a * n + b]! += row[a]! * row[b]!;
    const lambda = 2;
    const b = easeWeights(gram, n, lambda);
    // Rebuild P from B: P_ij = −B_ij · P_jj, and P (G + λI) = I fixes P_jj. Check column j of the product.
    for (let j = 0; j < n; j++) {
      expect(b[j * n + j]).toBe(0);
      // Column j of P up to the factor P_jj: −B_ij for i ≠ j, 1 on the diagonal.
      const col = Array.from({ length: n }, (_, i) => (i === j ? 1 : -b[i * n + j]!));
      for (let k = 0; k < n; k++) {
        if (k === j) continue;
        // (G + λI) is symmetric, so row k of (G + λI) · column j of P is 0 off the diagonal.
        let s = 0;
        for (let i = 0; i < n; i++) s += (gram[k * n + i]! + (k === i ? lambda : 0)) * col[i]!;
        expect(Math.abs(s)).toBeLessThan(1e-9);
      }
    }
  });

  it('scores sum B over the history; the recency variant weighs the latest item most', async () => {
    // Items 0–5; users who took 0 then 1 also took 2, users who took 3 then 4 also took 5.
    const train: Interaction[] = [];
    let u = 0;
    for (let r = 0; r < 30; r++, u++) for (const [t, item] of [0, 1, 2].entries()) train.push({ user: u, item, ts: t });
    for (let r = 0; r < 30; r++, u++) for (const [t, item] of [3, 4, 5].entries()) train.push({ user: u, item, ts: t });
    // The shopper under test: item 0 long ago, item 3 just now.
    const shopper = u;
    train.push({ user: shopper, item: 0, ts: 0 }, { user: shopper, item: 3, ts: 100 });
    const validation = { heldOut: [{ user: shopper, item: 5, ts: 101 }], negatives: [[2]] };
    const plain = new EaseRecommender(validation, { lambdas: [1] });
    await plain.fit(train, shopper + 1, 6);
    const recent = new EaseRecommender(validation, { lambdas: [1], recency: { decays: [0.3], floors: [0] } });
    await recent.fit(train, shopper + 1, 6);
    const [p2, p5] = plain.score(shopper, [2, 5]);
    const [r2, r5] = recent.score(shopper, [2, 5]);
    expect(p5! - p2!).toBeCloseTo(0, 6); // one item of each group: a tie
    expect(r5!).toBeGreaterThan(r2!); // the latest item's group wins
    expect(recent.chosen).toMatchObject({ lambda: 1, decay: 0.3, floor: 0 });
  });
});
