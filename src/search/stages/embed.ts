import type { Stage } from '../context.ts';

/** Turns the query text into a vector (cached: people repeat queries). */
export const embedQuery: Stage = {
  name: 'embed',
  async run(ctx, { embeddings }) {
    const queryVector = await embeddings.embedQuery(ctx.request.query);
    return { ...ctx, queryVector, notes: { ...ctx.notes, embed: `embedded with ${embeddings.embedder.id}` } };
  },
};
