import { tokenize } from './tokenize.ts';

/** One rewritten query word, for `explain` and `corrected_query`. */
export interface SpellingChange {
  from: string;
  to: string;
  why: 'edit' | 'split';
}

/**
 * Typo tolerance against the catalogue's own vocabulary (symmetric-delete lookup, as SymSpell
 * does: every known term is indexed under the strings one or two deletions away, so a lookup
 * costs a few map probes whatever the vocabulary's size). A query word is corrected only when the
 * catalogue does not know it: words of 4–7 characters within one edit (Damerau: a swap counts
 * once), of 8 or more within two, the most frequent candidate first. An unknown word that is two
 * known ones run together ("outdoorfurniture") is split. Terms are the lexical tokenizer's, so the
 * corrected word is what BM25 indexed.
 */
export class SpellingCorrector {
  private readonly counts = new Map<string, number>();
  private readonly deletes = new Map<string, Set<string>>();

  /**
   * @param isWord a general dictionary: a word it knows is never "corrected", however few coupons
   * use it ("price" is not a typo of "rice" because a small catalogue lacks it).
   */
  constructor(private readonly isWord: (word: string) => boolean = () => false) {}

  /** Counts the terms of one coupon's lexical text (call again when it changes: counts only grow). */
  addText(text: string): void {
    for (const term of tokenize(text)) this.addTerm(term);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Takes in the terms of another corrector (counts: the larger of the two). */
  absorb(other: SpellingCorrector): void {
    for (const [term, n] of other.counts) {
      const mine = this.counts.get(term) ?? 0;
      if (n > mine) this.addTerm(term, n - mine);
    }
  }

  private addTerm(term: string, by = 1): void {
    const seen = this.counts.get(term);
    this.counts.set(term, (seen ?? 0) + by);
    if (seen !== undefined || term.length < 4 || /\d/.test(term)) return;
    for (const d of deletions(term, maxEdits(term.length))) {
      const set = this.deletes.get(d);
      if (set) set.add(term);
      else this.deletes.set(d, new Set([term]));
    }
  }

  /** The query with unknown words corrected (or the query itself), and what changed; `known` terms (synonyms) stay as they are. */
  correct(query: string, known: (term: string) => boolean = () => false): { query: string; changes: SpellingChange[] } {
    const changes: SpellingChange[] = [];
    const words = query.split(/(\s+)/);
    const out = words.map((word) => {
      const terms = tokenize(word);
      if (terms.length !== 1) return word;
      const term = terms[0]!;
      if (this.counts.has(term) || known(term) || term.length < 4 || /\d/.test(term) || this.isWord(word.toLowerCase()) || this.isWord(term)) return word;
      const fixed = this.bestEdit(term);
      if (fixed) {
        changes.push({ from: word, to: fixed, why: 'edit' });
        return fixed;
      }
      const split = this.bestSplit(term);
      if (split) {
        changes.push({ from: word, to: split, why: 'split' });
        return split;
      }
      return word;
    });
    return { query: changes.length ? out.join('') : query, changes };
  }

  private bestEdit(term: string): string | undefined {
    const limit = maxEdits(term.length);
    let best: { term: string; distance: number; count: number } | undefined;
    const consider = (candidate: string) => {
      const distance = editDistance(term, candidate, limit);
      if (distance > limit) return;
      const count = this.counts.get(candidate)!;
      if (!best || distance < best.distance || (distance === best.distance && count > best.count)) best = { term: candidate, distance, count };
    };
    for (const d of deletions(term, limit)) {
      if (this.counts.has(d) && d.length >= 4) consider(d);
      for (const candidate of this.deletes.get(d) ?? []) consider(candidate);
    }
    return best?.term;
  }

  private bestSplit(term: string): string | undefined {
    if (term.length < 7) return undefined;
    let best: { words: string; count: number } | undefined;
    for (let i = 3; i <= term.length - 3; i++) {
      const [a, b] = [term.slice(0, i), term.slice(i)];
      const count = Math.min(this.counts.get(a) ?? 0, this.counts.get(b) ?? 0);
      if (count > 0 && (!best || count > best.count)) best = { words: `${a} ${b}`, count };
    }
    return best?.words;
  }
}

const maxEdits = (length: number) => (length >= 8 ? 2 : 1);

/** Every string `edits` or fewer deletions from `term`, itself included. */
function deletions(term: string, edits: number): Set<string> {
  const out = new Set([term]);
  let frontier = [term];
  for (let e = 0; e < edits; e++) {
    const next: string[] = [];
    for (const s of frontier) {
      for (let i = 0; i < s.length; i++) {
        const d = s.slice(0, i) + s.slice(i + 1);
        if (!out.has(d)) {
          out.add(d);
          next.push(d);
        }
      }
    }
    frontier = next;
  }
  return out;
}

/** Optimal string alignment distance (a transposition is one edit), stopping early past `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array(b.length + 1).fill(0));
    rows[i]![0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = v;
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > limit) return limit + 1;
  }
  return rows[a.length]![b.length]!;
}
