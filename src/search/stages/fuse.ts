import type { SearchSettings, Stage } from '../context.ts';
import { bestTitleMatch, queryTerms, titleProfileOf } from '../../text/title-match.ts';
import { describeFusion, FUSED_LISTS, type FusionSettings, fusedScores } from '../fusion.ts';

/**
 * Merges the retrievers' lists (dense, lexical, behaviour, popularity) into one order with a
 * fusion from the settings (`search/fusion.ts`). The order stands when no learned ranker is loaded.
 */
export const fuseLists = (fusionOf: (settings: SearchSettings) => FusionSettings): Stage => ({
  name: 'fuse',
  run(ctx, { settings }) {
    const fusion = fusionOf(settings);
    const forms = (ctx.queryForms ?? [ctx.queryText]).map(queryTerms);
    const best = forms[0]!.terms.length ? ctx.candidates.map((c) => bestTitleMatch(forms, titleProfileOf(c.coupon))) : undefined;
    const scores = fusedScores(
      ctx.candidates,
      fusion,
      best?.map((b) => b.match),
    );
    const scored = ctx.candidates.map((c, i) => ({ c, score: scores[i]!, form: forms.length > 1 ? best?.[i]?.form : undefined }));
    scored.sort((a, b) => b.score - a.score || a.c.id.localeCompare(b.c.id));
    const candidates = scored.map(({ c, score, form }, i) => ({ ...c, fused: { rank: i + 1, score }, ...(form !== undefined && { queryForm: form }) }));
    const several = candidates.filter((c) => FUSED_LISTS.filter((l) => c[l]).length > 1).length;
    return {
      ...ctx,
      candidates,
      notes: { ...ctx.notes, fuse: `${describeFusion(fusion)} over ${candidates.length} candidates, ${several} found by more than one retriever` },
    };
  },
});

/** Query search: the fusion chosen by evaluation (`FUSION`, `FUSION_DENSE_WEIGHT`, `FUSION_PARAPHRASE_WEIGHT`). */
export const fuseQueryLists = fuseLists((s) => s.fusion);
/** Similar coupons and feeds: behaviour, popularity and content lists by RRF. */
export const fuseRecommendationLists = fuseLists((s) => s.recommendationFusion);
