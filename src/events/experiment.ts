import type { ServedOutcome } from './event-store.ts';

type Team = 'a' | 'b';

export interface ExperimentReport {
  /** The arms as logged (labels from the served lists). */
  rankers: Array<{ ranker: string; team: Team; wins: number; losses: number; ties: number }>;
  /** Interleaved lists in the window, and those with at least one credited click or redemption. */
  lists: number;
  decided: number;
  /** Two-sided sign test on wins against losses (ties left out). */
  p_value: number;
  /** The arm with more wins, when p < 0.05. */
  winner: string | undefined;
}

/**
 * The experiment's outcome from the served-list log: each interleaved list whose results were
 * clicked or redeemed is a win for the team credited with more of them, a tie when equal.
 */
export async function experimentReport(lists: AsyncIterable<ServedOutcome>, window: { from: Date; to: Date }): Promise<ExperimentReport | undefined> {
  let a = 0;
  let b = 0;
  let ties = 0;
  let total = 0;
  const labels: Partial<Record<Team, string>> = {};
  for await (const list of lists) {
    const t = Date.parse(list.ts);
    if (t < window.from.getTime() || t >= window.to.getTime() || !list.experiment) continue;
    total++;
    labels.a = list.experiment.a;
    labels.b = list.experiment.b;
    const credit = { a: 0, b: 0 };
    for (const item of list.items) {
      const did = list.outcomes[item.couponId] ?? [];
      if (item.team && (did.includes('click') || did.includes('redeem'))) credit[item.team]++;
    }
    if (credit.a + credit.b === 0) continue;
    if (credit.a > credit.b) a++;
    else if (credit.b > credit.a) b++;
    else ties++;
  }
  if (total === 0) return undefined;
  const p = signTest(a, b);
  return {
    rankers: [
      { ranker: labels.a!, team: 'a', wins: a, losses: b, ties },
      { ranker: labels.b!, team: 'b', wins: b, losses: a, ties },
    ],
    lists: total,
    decided: a + b + ties,
    p_value: p,
    winner: p < 0.05 && a !== b ? (a > b ? labels.a : labels.b) : undefined,
  };
}

/** Two-sided exact binomial test of `wins` against `losses` at p = 1/2. */
export function signTest(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.max(wins, losses);
  // P(X ≥ k) for X ~ Binomial(n, 1/2), summed in log space so large n stays exact enough.
  let tail = 0;
  let logC = 0; // log C(n, 0)
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}
