import type { RankingList } from './ranker.ts';

/**
 * Learning from clicks despite position bias. A click needs the shopper to examine a position
 * (probability θ_k, the propensity) and to find the coupon relevant (γ_{q,d}): P(click) = θ_k · γ.
 * The propensities are estimated from the served logs themselves by expectation–maximisation over
 * that model (Wang et al., WSDM 2018), which works wherever the same (query, coupon) pair was
 * served at different positions; training then weights each click by 1 / θ_k (inverse propensity
 * weighting, Joachims et al. 2017), clipped so a rare low position cannot dominate.
 */
export interface ClickedList {
  query: string;
  /** Candidates in the order served (index = position 0, 1, …). */
  items: Array<{ id: string; features: Float32Array; clicked: boolean }>;
}

export interface PropensityEstimate {
  /** θ_k per position, relative to the top position (θ_0 = 1). */
  propensities: number[];
  iterations: number;
}

export function estimatePropensities(logs: readonly ClickedList[], options: { positions?: number; iterations?: number } = {}): PropensityEstimate {
  const K = options.positions ?? Math.max(...logs.map((l) => l.items.length));
  let theta = Array.from({ length: K }, (_, k) => 1 / (k + 1));
  const gamma = new Map<string, number>();
  const key = (q: string, d: string) => `${q}\u0000${d}`;
  for (const l of logs) for (const it of l.items) gamma.set(key(l.query, it.id), 0.5);
  const iterations = options.iterations ?? 50;
  for (let iter = 0; iter < iterations; iter++) {
    const thetaNum = new Array(K).fill(0),
      thetaDen = new Array(K).fill(0);
    const gammaNum = new Map<string, number>(),
      gammaDen = new Map<string, number>();
    for (const l of logs) {
      l.items.forEach((it, k) => {
        if (k >= K) return;
        const kk = key(l.query, it.id);
        const t = theta[k]!,
          g = gamma.get(kk)!;
        // Posterior of "examined" and of "relevant" given the observation.
        const examined = it.clicked ? 1 : (t * (1 - g)) / Math.max(1e-12, 1 - t * g);
        const relevant = it.clicked ? 1 : ((1 - t) * g) / Math.max(1e-12, 1 - t * g);
        thetaNum[k] += examined;
        thetaDen[k] += 1;
        gammaNum.set(kk, (gammaNum.get(kk) ?? 0) + relevant);
        gammaDen.set(kk, (gammaDen.get(kk) ?? 0) + 1);
      });
    }
    theta = theta.map((_, k) => (thetaDen[k] ? thetaNum[k] / thetaDen[k] : theta[k]!));
    for (const [kk, n] of gammaNum) gamma.set(kk, n / gammaDen.get(kk)!);
  }
  const top = theta[0]! || 1;
  return { propensities: theta.map((t) => Math.min(1, t / top)), iterations };
}

/**
 * Training lists from served logs: each click's gain is 1 / θ_position (clipped at `maxWeight`);
 * with `propensities` omitted, clicks count as they are (the biased, uncorrected baseline).
 */
export function listsFromClicks(logs: readonly ClickedList[], propensities?: readonly number[], maxWeight = 20): RankingList[] {
  return logs
    .filter((l) => l.items.some((it) => it.clicked))
    .map((l) => ({
      features: l.items.map((it) => it.features),
      gains: l.items.map((it, k) => (it.clicked ? (propensities ? Math.min(maxWeight, 1 / Math.max(propensities[k] ?? 1, 1e-6)) : 1) : 0)),
    }));
}
