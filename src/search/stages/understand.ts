import { allOf } from '../../domain/filter.ts';
import type { Boost, Stage } from '../context.ts';
import { understandQuery } from '../query-understanding.ts';

/** An understood preference outranks any difference in relevance, also through MMR (see `boost.ts`). */
const UNDERSTOOD_BOOST_WEIGHT = 2;

/**
 * Coupon query understanding (`search/query-understanding.ts`): "half price pizza" searches for
 * "pizza" and prefers coupons at 45 % off or more; "pizza under $15" adds a price cap to the
 * filter. Runs first, so typo tolerance never "corrects" "bogo". Reported under `embed`, with the
 * rest of the query's preparation; `understand=false` turns it off per request.
 */
export const understandPhrases: Stage = {
  name: 'embed',
  part: 'understand',
  run(ctx) {
    const { request } = ctx;
    if (request.surface !== 'search' || request.understand === false) return ctx;
    const { rest, understood, unmet } = understandQuery(ctx.queryText, request.now, request.origin);
    if (!understood.length && !unmet.length) return ctx;
    const filters = understood.flatMap((u) => (u.filter ? [u.filter] : []));
    const boosts = understood.flatMap((u): Boost[] =>
      u.boost ? [{ filter: u.boost, weight: UNDERSTOOD_BOOST_WEIGHT, reason: `understood "${u.text}"` }] : [],
    );
    const read = understood.map((u) => `"${u.text}" as ${u.as.replace('_', ' ')} (${u.filter ? 'filter' : 'boost'})`);
    const notes = [...read, ...unmet.map((text) => `"${text}" ignored: no lat/lon to measure from`)];
    return {
      ...ctx,
      request: { ...request, filter: allOf(request.filter, ...filters) },
      // A query of phrases only ("half price") still searches its words.
      queryText: rest || ctx.queryText,
      understood,
      boosts: [...(ctx.boosts ?? []), ...boosts],
      notes: { ...ctx.notes, embed: `understood ${notes.join(', ')}` },
    };
  },
};
