import type { Stage } from '../context.ts';

/** Turns the query text into a vector (cached: people repeat queries); no text, nothing to do. */
export const embedQuery: Stage = {
  name: 'embed',
  async run(ctx, { embeddings }) {
    if (!ctx.request.query.trim()) return { ...ctx, notes: { ...ctx.notes, embed: 'no query text' } };
    const queryVector = await embeddings.embedQuery(ctx.request.query);
    return { ...ctx, queryVector, notes: { ...ctx.notes, embed: `embedded with ${embeddings.queryPath}` } };
  },
};
