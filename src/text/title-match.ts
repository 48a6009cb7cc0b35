import { tokenize } from './tokenize.ts';

/** A query's terms and adjacent-term pairs, prepared once per request. */
export interface QueryTerms {
  terms: readonly string[];
  bigrams: ReadonlySet<string>;
}

/** How completely a title contains the query: the share of its terms, and of its adjacent pairs. */
export interface TitleMatch {
  termCoverage: number;
  bigramCoverage: number;
}

const termsByTitleOwner = new WeakMap<object, readonly string[]>();

/**
 * The title's terms, tokenized once per coupon object: the row cache hands out the same object for
 * a coupon until its next version, so fusion and retrieval do not re-tokenize every candidate on
 * every request.
 */
export function titleTermsOf(coupon: { title: string }): readonly string[] {
  let terms = termsByTitleOwner.get(coupon);
  if (!terms) termsByTitleOwner.set(coupon, (terms = tokenize(coupon.title)));
  return terms;
}

export function queryTerms(query: string): QueryTerms {
  const terms = tokenize(query);
  return { terms, bigrams: new Set(terms.slice(1).map((t, i) => `${terms[i]} ${t}`)) };
}

/**
 * The share of query terms the title has, and of query bigrams it has in order ("deck screws"
 * in "Deck Screws, 5 lb" but not in "Screws for a deck"). A one-term query's bigram share is its
 * term share. Shared by the fusion's match boost and the ranking features.
 */
export function titleMatch(q: QueryTerms, titleTerms: readonly string[]): TitleMatch {
  if (q.terms.length === 0) return { termCoverage: 0, bigramCoverage: 0 };
  const titleSet = new Set(titleTerms);
  const termCoverage = q.terms.filter((t) => titleSet.has(t)).length / q.terms.length;
  if (q.bigrams.size === 0) return { termCoverage, bigramCoverage: termCoverage };
  const titleBigrams = new Set(titleTerms.slice(1).map((t, i) => `${titleTerms[i]} ${t}`));
  let shared = 0;
  for (const b of q.bigrams) if (titleBigrams.has(b)) shared++;
  return { termCoverage, bigramCoverage: shared / q.bigrams.size };
}

/** The best match of a title among a query's forms (synonym substitutions): the form its words use. */
export function bestTitleMatch(forms: readonly QueryTerms[], titleTerms: readonly string[]): { form: number; match: TitleMatch } {
  let best = { form: 0, match: titleMatch(forms[0]!, titleTerms) };
  for (let i = 1; i < forms.length; i++) {
    const match = titleMatch(forms[i]!, titleTerms);
    if (match.termCoverage + match.bigramCoverage > best.match.termCoverage + best.match.bigramCoverage) best = { form: i, match };
  }
  return best;
}
