import type { Stage } from '../context.ts';

/** Turns the query text into a vector (cached: people repeat queries); no text, nothing to do. */
export const embedQuery: Stage = {
  name: 'embed',
  async run(ctx, { embeddings }) {
    const before = ctx.notes.embed ? `${ctx.notes.embed}; ` : '';
    if (!ctx.queryText.trim()) return { ...ctx, notes: { ...ctx.notes, embed: `${before}no query text` } };
    const queryVector = await embeddings.embedQuery(ctx.queryText);
    return { ...ctx, queryVector, notes: { ...ctx.notes, embed: `${before}embedded with ${embeddings.queryPath}` } };
  },
};
