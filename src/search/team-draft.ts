export type Team = 'a' | 'b';

/**
 * Team-draft interleaving (Radlinski, Kurup & Joachims, CIKM 2008): the team with fewer picks so
 * far (a coin flip on a tie) adds its best result not yet shown. Each result is credited to the
 * team that picked it; a click is a vote for that team's ranker. `rankA` and `rankB` are orders
 * of the same indices; `coin` returns true for team a.
 */
export function teamDraft(rankA: readonly number[], rankB: readonly number[], coin: () => boolean): Array<{ index: number; team: Team }> {
  const out: Array<{ index: number; team: Team }> = [];
  const taken = new Set<number>();
  let picksA = 0;
  let picksB = 0;
  let ia = 0;
  let ib = 0;
  const n = new Set([...rankA, ...rankB]).size;
  while (out.length < n) {
    const aTurn = picksA < picksB || (picksA === picksB && coin());
    const [order, from] = aTurn ? [rankA, ia] : [rankB, ib];
    let at = from;
    while (at < order.length && taken.has(order[at]!)) at++;
    if (at >= order.length) {
      // This team has nothing left: the other one completes the list.
      if (aTurn) picksA = Number.POSITIVE_INFINITY;
      else picksB = Number.POSITIVE_INFINITY;
      continue;
    }
    taken.add(order[at]!);
    out.push({ index: order[at]!, team: aTurn ? 'a' : 'b' });
    if (aTurn) {
      ia = at + 1;
      picksA++;
    } else {
      ib = at + 1;
      picksB++;
    }
  }
  return out;
}
