import { z } from 'zod';

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
export type SynonymSet = SynonymSetBody & { id: string; updated_at: string };

/** The wire shape of `GET /v1/synonyms`. */
export const synonymListSchema = z.object({
  synonyms: z.array(z.object({ id: z.string(), root: z.string().optional(), synonyms: z.array(z.string()), updated_at: z.string() })),
});
