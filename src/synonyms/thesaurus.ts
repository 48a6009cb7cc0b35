import { tokenize } from '../text/tokenize.ts';

/** The most query forms one query expands into (the original included): bounds the work per request. */
export const MAX_QUERY_FORMS = 8;

interface Entry {
  /** The phrase's terms, as `tokenize` makes them. */
  terms: readonly string[];
  /** What it may be replaced by, as term lists. */
  alternatives: ReadonlyArray<readonly string[]>;
  set: string;
}

/**
 * Synonym sets compiled for query expansion. Phrases are matched on terms (lower-cased, stop words
 * dropped, plurals stemmed, as BM25 indexed them), so "Promo Codes" matches "promo code". A query
 * expands into forms with one matched phrase replaced by one alternative; lexical retrieval
 * searches the words of every form, and ranking matches each coupon with the form its title uses.
 */
export class Thesaurus {
  /** Entries by their first term, longest phrase first. */
  private readonly byFirst = new Map<string, Entry[]>();
  private readonly terms = new Set<string>();
  readonly size: number;

  constructor(sets: ReadonlyArray<{ id: string; root?: string; synonyms: readonly string[] }>) {
    for (const set of sets) {
      const phrases = (set.root !== undefined ? [set.root, ...set.synonyms] : set.synonyms).map((p) => tokenize(p)).filter((t) => t.length > 0);
      const sources = set.root !== undefined ? phrases.slice(0, 1) : phrases;
      for (const terms of phrases) for (const t of terms) this.terms.add(t);
      for (const source of sources) {
        const key = source.join(' ');
        const alternatives = phrases.filter((p) => p.join(' ') !== key);
        if (!alternatives.length) continue;
        const list = this.byFirst.get(source[0]!) ?? [];
        list.push({ terms: source, alternatives, set: set.id });
        list.sort((a, b) => b.terms.length - a.terms.length);
        this.byFirst.set(source[0]!, list);
      }
    }
    this.size = sets.length;
  }

  static readonly empty = new Thesaurus([]);

  /** Whether a term is a word of some synonym set (typo tolerance leaves such words alone). */
  knows(term: string): boolean {
    return this.terms.has(term);
  }

  /**
   * The query's forms, the original first, and the sets that matched. Each later form replaces
   * one matched phrase by one alternative; at most `MAX_QUERY_FORMS` forms.
   */
  expand(query: string): { forms: string[]; sets: string[] } {
    const terms = tokenize(query);
    const forms = [terms];
    const sets = new Set<string>();
    for (let i = 0; i < terms.length; i++) {
      const entry = this.byFirst.get(terms[i]!)?.find((e) => e.terms.every((t, j) => terms[i + j] === t));
      if (!entry) continue;
      sets.add(entry.set);
      for (const alt of entry.alternatives) {
        if (forms.length >= MAX_QUERY_FORMS) break;
        forms.push([...terms.slice(0, i), ...alt, ...terms.slice(i + entry.terms.length)]);
      }
      i += entry.terms.length - 1;
    }
    return { forms: [query, ...forms.slice(1).map((f) => f.join(' '))], sets: [...sets] };
  }
}
