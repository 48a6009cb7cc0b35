import { allOf, type Filter, servableAt } from '../domain/filter.ts';
import type { VectorStore } from '../store/vector-store.ts';
import { normalisePhrase } from '../text/tokenize.ts';
import { inTurns, type Suggestion, type SuggestionIndex, type SuggestionKind } from './suggestions.ts';

/** Completions of the word being typed that the retrieval searches for. */
const COMPLETIONS = 30;
/** Coupons read under the key's filter to draw suggestions from. */
const POOL = 200;
const KINDS: readonly SuggestionKind[] = ['merchant', 'category', 'coupon'];

/**
 * Autocomplete for a tenant-scoped API key. The shared index knows every tenant's merchants,
 * titles and past queries, so it cannot answer such a key: these suggestions come only from
 * coupons the key can see. The words typed (the last completed from the catalogue's words, those
 * in most entries first) are searched lexically under the key's filter, and the merchants,
 * categories and titles of what that finds that match the prefix are offered, counted over what it
 * found. Past queries are never offered: they are other tenants' too.
 */
export async function suggestWithinFilter(
  prefix: string,
  limit: number,
  filter: Filter,
  { store, index, now }: { store: VectorStore; index: SuggestionIndex; now: Date },
): Promise<Suggestion[]> {
  const p = normalisePhrase(prefix);
  if (!p) return [];
  const words = p.split(' ');
  const last = words.pop()!;
  const text = [...words, last, ...index.completions(last, COMPLETIONS)].join(' ');
  const hits = await store.lexical(text, { k: POOL, filter: allOf(servableAt(now), filter), withVectors: false });
  const counts: Record<SuggestionKind, Map<string, Suggestion>> = { query: new Map(), merchant: new Map(), category: new Map(), coupon: new Map() };
  const offer = (kind: SuggestionKind, shown: string) => {
    const key = normalisePhrase(shown);
    if (!key.startsWith(p) && !key.includes(` ${p}`)) return;
    const seen = counts[kind].get(key);
    counts[kind].set(key, { text: seen?.text ?? shown, kind, count: (seen?.count ?? 0) + 1 });
  };
  for (const { coupon } of hits) {
    offer('merchant', coupon.merchant.name);
    for (const category of new Set(coupon.categories)) offer('category', category);
    offer('coupon', coupon.title);
  }
  // Each kind by count, then taken in turns, as the shared index offers them.
  const byKind = KINDS.map((kind) => [...counts[kind].values()].sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)));
  return inTurns(byKind, limit);
}
