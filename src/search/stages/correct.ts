import type { Stage } from '../context.ts';

/**
 * Typo tolerance: query words the catalogue does not know are corrected against its vocabulary
 * (`text/spelling.ts`) before anything embeds or retrieves them, so "pizzza" reaches BM25 as
 * "pizza" too, not only through vectors. Reported under `embed` in explain and Server-Timing,
 * with which the query is prepared; `typo_tolerance=false` turns it off per request.
 */
export const correctTypos: Stage = {
  name: 'embed',
  part: 'correct',
  run(ctx, { spelling, thesaurus }) {
    if (ctx.request.surface !== 'search' || ctx.request.typoTolerance === false || !ctx.queryText.trim()) return ctx;
    if (!spelling) return ctx;
    // A word of a synonym set is a word of the catalogue's language, even when no coupon uses it.
    const { query, changes } = spelling.correct(ctx.queryText, (term) => thesaurus?.knows(term) ?? false);
    if (!changes.length) return ctx;
    const note = `corrected ${changes.map((c) => `"${c.from}" → "${c.to}"${c.why === 'split' ? ' (split)' : ''}`).join(', ')}`;
    // The query as typed with the corrections in (understood phrases kept): what `corrected_query` shows.
    const correctedQuery = changes.reduce((q, c) => q.replace(c.from, c.to), ctx.request.query);
    return { ...ctx, queryText: query, correctedQuery, notes: { ...ctx.notes, embed: ctx.notes.embed ? `${ctx.notes.embed}; ${note}` : note } };
  },
};
