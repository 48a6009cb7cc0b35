import type { Stage } from '../context.ts';

/**
 * Typo tolerance: query words the catalogue does not know are corrected against its vocabulary
 * (`text/spelling.ts`) before anything embeds or retrieves them, so "pizzza" reaches BM25 as
 * "pizza" too, not only through vectors. Reported under `embed` in explain and Server-Timing,
 * with which the query is prepared; `typo_tolerance=false` turns it off per request.
 */
export const correctTypos: Stage = {
  name: 'embed',
  run(ctx, { spelling }) {
    if (ctx.request.surface !== 'search' || ctx.request.typoTolerance === false || !ctx.queryText.trim()) return ctx;
    if (!spelling) return ctx;
    const { query, changes } = spelling.correct(ctx.queryText);
    if (!changes.length) return ctx;
    const note = `corrected ${changes.map((c) => `"${c.from}" → "${c.to}"${c.why === 'split' ? ' (split)' : ''}`).join(', ')}`;
    return { ...ctx, queryText: query, correctedQuery: query, notes: { ...ctx.notes, embed: note } };
  },
};
