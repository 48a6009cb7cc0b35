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

/** What matching and the ranking features read from a title, derived once. */
export interface TitleProfile {
  terms: readonly string[];
  termSet: ReadonlySet<string>;
  /** Lower case, runs of anything but letters and digits as one space. */
  normalised: string;
  /** `normalised` without spaces: its substrings of three are the title's character trigrams. */
  compact: string;
  /** Distinct character trigrams of `compact`. */
  trigramCount: number;
}

export function titleProfile(title: string): TitleProfile {
  const terms = tokenize(title);
  const normalised = normaliseText(title);
  const compact = normalised.replace(/ /g, '');
  return { terms, termSet: new Set(terms), normalised, compact, trigramCount: trigramsOfCompact(compact).size };
}

/** Character trigrams of the text without spaces: robust to misspellings and split compounds. */
export function characterTrigrams(text: string): Set<string> {
  return trigramsOfCompact(normaliseText(text).replace(/ /g, ''));
}

function trigramsOfCompact(compact: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 3 <= compact.length; i++) out.add(compact.slice(i, i + 3));
  return out;
}

export function normaliseText(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const profileByTitleOwner = new WeakMap<object, TitleProfile>();

/**
 * The title's profile, derived once per coupon object: the serving index and the row cache hand
 * out the same object for a coupon until its next version, so fusion and the ranking features do
 * not re-tokenize every candidate on every request.
 */
export function titleProfileOf(coupon: { title: string }): TitleProfile {
  let profile = profileByTitleOwner.get(coupon);
  if (!profile) profileByTitleOwner.set(coupon, (profile = titleProfile(coupon.title)));
  return profile;
}

export function titleTermsOf(coupon: { title: string }): readonly string[] {
  return titleProfileOf(coupon).terms;
}

export function queryTerms(query: string): QueryTerms {
  const terms = tokenize(query);
  return { terms, bigrams: new Set(terms.slice(1).map((t, i) => `${terms[i]} ${t}`)) };
}

/**
 * The share of query terms the title has, and of query bigrams it has in order ("deck screws"
 * in "Deck Screws, 5 lb" but not in "Screws for a deck"). A one-term query's bigram share is its
 * term share. Shared by the fusion's match boost and the ranking features, so it runs for every
 * candidate of every search: it builds no strings and no sets.
 */
export function titleMatch(q: QueryTerms, titleTerms: readonly string[], titleSet: ReadonlySet<string> = new Set(titleTerms)): TitleMatch {
  const { terms } = q;
  if (terms.length === 0) return { termCoverage: 0, bigramCoverage: 0 };
  let matched = 0;
  for (const t of terms) if (titleSet.has(t)) matched++;
  const termCoverage = matched / terms.length;
  if (q.bigrams.size === 0) return { termCoverage, bigramCoverage: termCoverage };
  return { termCoverage, bigramCoverage: sharedBigrams(terms, titleTerms) / q.bigrams.size };
}

/** How many distinct adjacent pairs of `terms` stand adjacent, in order, in `title` (terms hold no spaces, so a pair is its "a b" bigram). */
function sharedBigrams(terms: readonly string[], title: readonly string[]): number {
  let shared = 0;
  pairs: for (let i = 0; i + 1 < terms.length; i++) {
    const first = terms[i],
      second = terms[i + 1];
    for (let j = 0; j < i; j++) if (terms[j] === first && terms[j + 1] === second) continue pairs;
    for (let k = 0; k + 1 < title.length; k++) {
      if (title[k] === first && title[k + 1] === second) {
        shared++;
        break;
      }
    }
  }
  return shared;
}

/** The best match of a title among a query's forms (synonym substitutions): the form its words use. */
export function bestTitleMatch(forms: readonly QueryTerms[], title: Pick<TitleProfile, 'terms' | 'termSet'>): { form: number; match: TitleMatch } {
  let best = { form: 0, match: titleMatch(forms[0]!, title.terms, title.termSet) };
  for (let i = 1; i < forms.length; i++) {
    const match = titleMatch(forms[i]!, title.terms, title.termSet);
    if (match.termCoverage + match.bigramCoverage > best.match.termCoverage + best.match.bigramCoverage) best = { form: i, match };
  }
  return best;
}
