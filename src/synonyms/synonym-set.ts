import { z } from 'zod';
import { DefinitionCache, type Stored } from '../definitions/definition-cache.ts';
import type { DefinitionStore } from '../definitions/definition-store.ts';
import type { Logger } from '../log.ts';
import { Thesaurus } from './thesaurus.ts';

/**
 * A synonym set, as the API takes it (the shapes Typesense and Algolia use):
 * - multi-way, `{"synonyms": ["coupon", "voucher", "promo code", "deal"]}`: any one finds the others;
 * - one-way, `{"root": "tv", "synonyms": ["television"]}`: "tv" also finds "television", not back.
 */
const phrase = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

export const synonymSetSchema = z.union([
  z.strictObject({
    root: phrase,
    synonyms: z.array(phrase).min(1, 'needs at least one synonym').max(50),
  }),
  z.strictObject({
    synonyms: z.array(phrase).min(2, 'a multi-way set needs at least two phrases (or give a root)').max(50),
  }),
]);

export type SynonymSetBody = z.output<typeof synonymSetSchema>;

/** A stored set: the body with its id and the time of its last write. */
export type SynonymSet = Stored<SynonymSetBody>;

/** The synonym sets in force, compiled into the thesaurus search expands queries with. */
export type Synonyms = DefinitionCache<SynonymSetBody, Thesaurus>;

export function synonymCache(store: DefinitionStore, logger: Logger): Synonyms {
  return new DefinitionCache<SynonymSetBody, Thesaurus>(store, 'synonyms', (sets) => new Thesaurus(sets), logger);
}

/** The wire shape of `GET /v1/synonyms`. */
export const synonymListSchema = z.object({
  synonyms: z.array(z.object({ id: z.string(), root: z.string().optional(), synonyms: z.array(z.string()), updated_at: z.string() })),
});
