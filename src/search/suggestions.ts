import type { Coupon } from '../domain/coupon.ts';
import { editDistance } from '../text/spelling.ts';
import { normalisePhrase } from '../text/tokenize.ts';

export type SuggestionKind = 'query' | 'merchant' | 'category' | 'coupon';

export interface Suggestion {
  text: string;
  kind: SuggestionKind;
  /** Coupons that match it: the last result count of a query, the coupons of a merchant, category or title. */
  count: number;
}

type Ranked = Suggestion & { rank: number };

/** Prefixes up to this length have their suggestions kept for `SHORT_PREFIX_TTL_MS`. */
const SHORT_PREFIX = 3;
const SHORT_PREFIX_TTL_MS = 5000;

/** Kinds in the order suggestions are offered when several match. */
const KINDS: readonly SuggestionKind[] = ['query', 'merchant', 'category', 'coupon'];

/**
 * Autocomplete: past queries that found coupons, merchant names, categories and coupon titles,
 * matched by prefix (on the whole text or on any word of it), and when nothing matches exactly,
 * within one edit of the prefix (from 4 characters), so "pizz" and "piza" both reach "pizza".
 */
export class SuggestionIndex {
  private readonly entries: Record<SuggestionKind, Map<string, { text: string; count: number }>> = {
    query: new Map(),
    merchant: new Map(),
    category: new Map(),
    coupon: new Map(),
  };
  /** How often each query was searched: popularity among past queries. */
  private readonly searches = new Map<string, number>();
  /** The entries each word occurs in, so a prefix looks at the entries that can match, not all. */
  private readonly words = new WordIndex();
  private readonly shortPrefixes = new Map<string, { list: Suggestion[]; until: number }>();

  addCoupon(c: Coupon): void {
    this.bump('merchant', c.merchant.name, 1);
    for (const category of c.categories) this.bump('category', category, 1);
    this.bump('coupon', c.title, 1);
  }

  /** A served search that found `total` coupons (queries without results are never suggested). */
  addQuery(text: string, total: number): void {
    const key = normalisePhrase(text);
    if (!key || total <= 0) return;
    if (!this.entries.query.has(key)) this.words.add(key, 'query');
    this.entries.query.set(key, { text: key, count: total });
    this.searches.set(key, (this.searches.get(key) ?? 0) + 1);
  }

  /** Takes in another index (the one this one replaces): its past queries, and the larger count of each entry. */
  absorb(other: SuggestionIndex): void {
    for (const kind of KINDS) {
      for (const [key, entry] of other.entries[kind]) {
        const mine = this.entries[kind].get(key);
        if (!mine) this.words.add(key, kind);
        if (kind === 'query' || !mine || mine.count < entry.count) this.entries[kind].set(key, entry);
      }
    }
    for (const [key, n] of other.searches) this.searches.set(key, (this.searches.get(key) ?? 0) + n);
  }

  suggest(prefix: string, limit: number): Suggestion[] {
    const p = normalisePhrase(prefix);
    if (!p) return [];
    // The shortest prefixes match most of the catalogue and are typed most: their lists are kept a few seconds.
    if (p.length > SHORT_PREFIX) return this.compute(p, limit);
    const key = `${limit}:${p}`;
    const cached = this.shortPrefixes.get(key);
    if (cached && cached.until > Date.now()) return cached.list;
    const list = this.compute(p, limit);
    if (this.shortPrefixes.size > 10_000) this.shortPrefixes.clear();
    this.shortPrefixes.set(key, { list, until: Date.now() + SHORT_PREFIX_TTL_MS });
    return list;
  }

  /** Up to `n` catalogue words starting with `prefix`, those in most entries first (to complete a word being typed). */
  completions(prefix: string, n: number): string[] {
    const words = [...this.words.startingWith(prefix)];
    return words
      .map((w) => ({ w, entries: this.words.entriesWith(w) }))
      .sort((a, b) => b.entries - a.entries || a.w.localeCompare(b.w))
      .slice(0, n)
      .map((x) => x.w);
  }

  private compute(p: string, limit: number): Suggestion[] {
    const first = p.split(' ')[0]!;
    let found = this.matching(p, limit, this.words.withPrefix(first), (text) => text.startsWith(p) || text.includes(` ${p}`));
    if (found.length === 0 && p.length >= 4) {
      // One edit off: the prefix's first word replaced by the start of a word within one edit of it
      // (same first letter), the rest as typed: "pizaz" → "pizza", "masag fa" → "massa fa".
      const near = new Set<string>();
      for (const w of this.words.startingWith(first[0]!)) if (editDistance(first, w.slice(0, first.length), 1) <= 1) near.add(w.slice(0, first.length));
      const variants = [...near].map((start) => start + p.slice(first.length));
      const refs = [...near].flatMap((start) => [...this.words.withPrefix(start)]);
      found = this.matching(p, limit, refs, (text) => variants.some((v) => text.startsWith(v) || text.includes(` ${v}`)));
    }
    return found;
  }

  /** Each kind's matches among `candidates` best first, then taken in turns (a query, a merchant, a category, a title, …). */
  private matching(p: string, limit: number, candidates: Iterable<EntryRef>, matches: (text: string) => boolean): Suggestion[] {
    const byKind: Suggestion[][] = [];
    const better = (a: Ranked, b: Ranked) => b.rank - a.rank || a.text.localeCompare(b.text);
    const keysOf: Record<SuggestionKind, Set<string>> = { query: new Set(), merchant: new Set(), category: new Set(), coupon: new Set() };
    for (const ref of candidates) keysOf[ref.kind].add(ref.key);
    for (const kind of KINDS) {
      // The best `limit` of this kind, kept sorted as they come (a prefix of one letter matches most of a catalogue).
      const top: Ranked[] = [];
      for (const key of keysOf[kind]) {
        const entry = this.entries[kind].get(key);
        if (!entry || !matches(key)) continue;
        const { text, count } = entry;
        // Popular queries by how often they were searched; the rest by how many coupons they cover.
        const base = kind === 'query' ? (this.searches.get(key) ?? 0) : count;
        const hit: Ranked = { text, kind, count, rank: key.startsWith(p) ? base * 2 + 1 : base };
        if (top.length === limit && better(hit, top[limit - 1]!) >= 0) continue;
        let at = top.length;
        while (at > 0 && better(hit, top[at - 1]!) < 0) at--;
        top.splice(at, 0, hit);
        if (top.length > limit) top.pop();
      }
      byKind.push(top.map(({ rank: _, ...s }) => s));
    }
    return inTurns(byKind, limit);
  }

  private bump(kind: SuggestionKind, text: string, by: number): void {
    const key = normalisePhrase(text);
    if (!key) return;
    const seen = this.entries[kind].get(key);
    if (!seen) this.words.add(key, kind);
    this.entries[kind].set(key, { text: seen?.text ?? text, count: (seen?.count ?? 0) + by });
  }
}

/** Each list's first, then each one's second, …: one suggestion of every kind before a second of any; at most `limit`. */
export function inTurns(lists: readonly Suggestion[][], limit: number): Suggestion[] {
  const out: Suggestion[] = [];
  for (let i = 0; out.length < limit && lists.some((list) => i < list.length); i++)
    for (const list of lists) if (i < list.length && out.length < limit) out.push(list[i]!);
  return out;
}

interface EntryRef {
  kind: SuggestionKind;
  key: string;
}

/**
 * Words → the entries they occur in, with the words kept sorted for prefix ranges (binary
 * search). New words wait in a short unsorted list that is scanned as well and merged in batches,
 * so a stream of new coupons does not re-sort the whole list on every keystroke.
 */
class WordIndex {
  private readonly refs = new Map<string, EntryRef[]>();
  private sorted: string[] = [];
  private recent: string[] = [];

  add(key: string, kind: SuggestionKind): void {
    for (const word of new Set(key.split(' '))) {
      let list = this.refs.get(word);
      if (!list) {
        this.refs.set(word, (list = []));
        this.recent.push(word);
      }
      list.push({ kind, key });
    }
    if (this.recent.length > 512) this.merge();
  }

  /** How many entries hold `word`. */
  entriesWith(word: string): number {
    return this.refs.get(word)?.length ?? 0;
  }

  /** Entries with a word starting with `prefix`. */
  *withPrefix(prefix: string): Iterable<EntryRef> {
    for (const word of this.startingWith(prefix)) yield* this.refs.get(word)!;
  }

  /** The words starting with `prefix`: a binary-searched range of the sorted ones, and the recent ones. */
  *startingWith(prefix: string): Iterable<string> {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.startsWith(prefix); i++) yield this.sorted[i]!;
    for (const word of this.recent) if (word.startsWith(prefix)) yield word;
  }

  private merge(): void {
    this.sorted = [...this.sorted, ...this.recent].sort();
    this.recent = [];
  }
}
