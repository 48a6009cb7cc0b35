import type { Coupon } from '../domain/coupon.ts';
import { editDistance } from '../text/spelling.ts';

export type SuggestionKind = 'query' | 'merchant' | 'category' | 'coupon';

export interface Suggestion {
  text: string;
  kind: SuggestionKind;
  /** Coupons that match it: the last result count of a query, the coupons of a merchant, category or title. */
  count: number;
}

type Ranked = Suggestion & { rank: number };

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

  addCoupon(c: Coupon): void {
    this.bump('merchant', c.merchant.name, 1);
    for (const category of c.categories) this.bump('category', category, 1);
    this.bump('coupon', c.title, 1);
  }

  /** A served search that found `total` coupons (queries without results are never suggested). */
  addQuery(text: string, total: number): void {
    const key = normalise(text);
    if (!key || total <= 0) return;
    this.entries.query.set(key, { text: key, count: total });
    this.searches.set(key, (this.searches.get(key) ?? 0) + 1);
  }

  /** Takes in another index (the one this one replaces): its past queries, and the larger count of each entry. */
  absorb(other: SuggestionIndex): void {
    for (const kind of KINDS) {
      for (const [key, entry] of other.entries[kind]) {
        const mine = this.entries[kind].get(key);
        if (kind === 'query' || !mine || mine.count < entry.count) this.entries[kind].set(key, entry);
      }
    }
    for (const [key, n] of other.searches) this.searches.set(key, (this.searches.get(key) ?? 0) + n);
  }

  suggest(prefix: string, limit: number): Suggestion[] {
    const p = normalise(prefix);
    if (!p) return [];
    let found = this.matching(p, limit, (text) => text.startsWith(p) || text.includes(` ${p}`));
    if (found.length === 0 && p.length >= 4)
      found = this.matching(p, limit, (text) => text.split(' ').some((w) => editDistance(p, w.slice(0, p.length), 1) <= 1));
    return found.slice(0, limit);
  }

  /** Each kind's matches best first, then taken in turns (a query, a merchant, a category, a title, …). */
  private matching(p: string, limit: number, matches: (text: string) => boolean): Suggestion[] {
    const byKind: Suggestion[][] = [];
    const better = (a: Ranked, b: Ranked) => b.rank - a.rank || a.text.localeCompare(b.text);
    for (const kind of KINDS) {
      // The best `limit` of this kind, kept sorted as they come (a prefix of one letter matches most of a catalogue).
      const top: Ranked[] = [];
      for (const [key, { text, count }] of this.entries[kind]) {
        if (!matches(key)) continue;
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
    const out: Suggestion[] = [];
    for (let i = 0; byKind.some((list) => i < list.length); i++) for (const list of byKind) if (i < list.length) out.push(list[i]!);
    return out;
  }

  private bump(kind: SuggestionKind, text: string, by: number): void {
    const key = normalise(text);
    if (!key) return;
    const seen = this.entries[kind].get(key);
    this.entries[kind].set(key, { text: seen?.text ?? text, count: (seen?.count ?? 0) + by });
  }
}

const normalise = (text: string) => text.toLowerCase().normalize('NFKC').replace(/\s+/g, ' ').trim();
