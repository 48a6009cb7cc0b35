import type { Stage } from '../context.ts';

/**
 * Synonyms (`synonyms/thesaurus.ts`): the query expands into forms with a matched phrase replaced
 * ("tv stand" → "television stand"). Lexical retrieval searches the words of every form; fusion,
 * ranking and highlighting match each coupon with the form its title uses. Runs after typo
 * tolerance, on the corrected words. Reported under `embed`, with the query's preparation.
 */
export const expandSynonyms: Stage = {
  name: 'embed',
  part: 'synonyms',
  run(ctx, { thesaurus }) {
    if (ctx.request.surface !== 'search' || !thesaurus?.size || !ctx.queryText.trim()) return ctx;
    const { forms, sets } = thesaurus.expand(ctx.queryText);
    if (!sets.length) return ctx;
    const note = `synonyms (${sets.join(', ')}): ${forms.map((f) => `"${f}"`).join(' | ')}`;
    return { ...ctx, queryForms: forms, notes: { ...ctx.notes, embed: ctx.notes.embed ? `${ctx.notes.embed}; ${note}` : note } };
  },
};
