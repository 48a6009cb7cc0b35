import { type QueryTerms, queryTerms, titleMatch, titleTermsOf } from '../../text/title-match.ts';
import type { Candidate, SearchContext, SearchDeps, Stage } from '../context.ts';
import { effectiveFilter, filterWithKey } from './retrieve.ts';

/**
 * When the words find little and no title holds every query term ("car service" against a
 * catalogue that says "oil change"), the query is embedded again by the sentence encoder through
 * the query bridge (it understands paraphrase; static word vectors do not), and that kNN list
 * (`paraphrase`) takes the static dense list's place in the fusion. Queries whose words match —
 * almost all of them — never pay for the sentence encoder, the slowest thing a search can run.
 * Nor do queries whose words the catalogue has outside the caller's filter ("oil change" among
 * fashion coupons): that is no gap in vocabulary, and the sentence encoder would only order the
 * filter's coupons by meaning, which the static dense list already does.
 */
export const retrieveParaphrases: Stage = {
  // Part of retrieval in explain and timings: it decides which dense candidates there are.
  name: 'retrieve',
  async run(ctx, { store, embeddings, settings }) {
    if (!embeddings.paraphrases) return ctx;
    const lexical = ctx.candidates.filter((c) => c.lexical);
    const q = queryTerms(ctx.queryText);
    const best = bestCoverageIfWordsFail(
      q,
      lexical.map((c) => titleTermsOf(c.coupon)),
      settings.paraphrase.maxLexicalHits,
    );
    if (best === undefined) return ctx;
    if (ctx.request.filter && (await wordsFindOutsideFilter(ctx, q, store, settings.paraphrase.maxLexicalHits))) {
      const note = `; the words found ${lexical.length} coupons under the filter, and the catalogue has them outside it: no paraphrase retrieval`;
      return { ...ctx, notes: { ...ctx.notes, retrieve: `${ctx.notes.retrieve ?? ''}${note}` } };
    }
    const vector = await embeddings.embedParaphrase(ctx.queryText);
    const hits = await store.knn(vector, { k: settings.candidates, filter: effectiveFilter(ctx), withVectors: true });
    // The static vectors' list goes (on such queries it matches single words, as BM25 did): the
    // lexical candidates stay, without their dense scores, and the ones by meaning join them.
    const byId = new Map(ctx.candidates.filter((c) => c.lexical).map(({ dense: _, ...c }): [string, Candidate] => [c.id, c]));
    hits.forEach((hit, i) => {
      const c = byId.get(hit.id) ?? { id: hit.id, coupon: hit.coupon, vector: hit.vector, behaviorVector: hit.behavior };
      byId.set(hit.id, { ...c, vector: c.vector ?? hit.vector, paraphrase: { rank: i + 1, score: hit.score } });
    });
    const note = `; the words found ${lexical.length} coupons and no title with every query term (best ${Math.round(best * 100)} %), so the dense list is ${hits.length} candidates by meaning (USE-lite through the query bridge)`;
    return { ...ctx, candidates: [...byId.values()], notes: { ...ctx.notes, retrieve: `${ctx.notes.retrieve ?? ''}${note}` } };
  },
};

/**
 * The trigger, shared with `eval:ranking`: the best share of query terms a lexical hit's title
 * holds, when the words failed (fewer hits than `maxLexicalHits`, none with every term); otherwise
 * undefined.
 */
export function bestCoverageIfWordsFail(q: QueryTerms, lexicalTitles: ReadonlyArray<readonly string[]>, maxLexicalHits: number): number | undefined {
  if (q.terms.length === 0 || lexicalTitles.length >= maxLexicalHits) return undefined;
  const best = Math.max(0, ...lexicalTitles.map((terms) => titleMatch(q, terms).termCoverage));
  return best < 1 ? best : undefined;
}

/** Whether the words do not fail once the caller's filter is dropped (the key's filter and "servable now" stay): one more BM25 search. */
async function wordsFindOutsideFilter(ctx: SearchContext, q: QueryTerms, store: SearchDeps['store'], maxLexicalHits: number): Promise<boolean> {
  const text = ctx.queryForms ? ctx.queryForms.join(' ') : ctx.queryText;
  const hits = await store.lexical(text, { k: maxLexicalHits, filter: filterWithKey(ctx, undefined), withVectors: false });
  return (
    bestCoverageIfWordsFail(
      q,
      hits.map((h) => titleTermsOf(h.coupon)),
      maxLexicalHits,
    ) === undefined
  );
}
