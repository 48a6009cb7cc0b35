import { hashString, seededRandom } from '../../util/random.ts';
import type { Stage } from '../context.ts';
import { teamDraft } from '../team-draft.ts';

/**
 * A ranker experiment (RANKER_EXPERIMENT=<a>,<b>): the rank stage ordered the candidates by arm a;
 * this stage scores them with arm b too (on b's own features when its term statistics differ),
 * team-draft interleaves the two orders (the coin seeded by the query id) and credits each result
 * to the arm that placed it, which the served-list log records. The interleaved order becomes the
 * rank score, so the later stages keep it. Search only. Reported under `rank`.
 */
export const interleaveRankers: Stage = {
  name: 'rank',
  part: 'interleave',
  async run(ctx, deps) {
    const { experiment } = deps;
    if (!experiment || ctx.request.surface !== 'search' || ctx.candidates.length < 2) return ctx;
    const { a, b } = experiment;
    const rows = b.features.idfSource === a.features.idfSource ? ctx.candidates.map((c) => c.ranked!.features) : (await b.features.compute(ctx, deps)).rows;
    const scoresB = await b.scorer.score(ctx, ctx.candidates, rows);
    const rankA = ctx.candidates.map((_, i) => i);
    const rankB = [...rankA].sort((x, y) => scoresB[y]! - scoresB[x]! || ctx.candidates[x]!.id.localeCompare(ctx.candidates[y]!.id));
    const rand = seededRandom(hashString(`interleave:${ctx.request.queryId}`));
    const order = teamDraft(rankA, rankB, () => rand() < 0.5);
    const n = order.length;
    const candidates = order.map(({ index, team }, i) => {
      const c = ctx.candidates[index]!;
      return { ...c, team, ranked: { ...c.ranked!, score: (n - i) / n } };
    });
    const fromA = order.filter((o) => o.team === 'a').length;
    const note = `; interleaved (team draft) '${a.label}' (a, ${fromA} results) with '${b.label}' (b, ${n - fromA})`;
    return { ...ctx, candidates, experiment: { a: a.label, b: b.label }, notes: { ...ctx.notes, rank: `${ctx.notes.rank ?? ''}${note}` } };
  },
};
