/**
 * The one lexical tokenizer of the engine: lower-cased word and number tokens, English stop words
 * dropped, a light plural stemmer. Used for BM25 sparse vectors, query-term features and tests, so
 * that every store and the ranker agree on what a "term" is.
 */
const STOP_WORDS = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were will with your you our off'.split(' '));

/** A phrase as typed, compared case- and spacing-blind (rule conditions, suggestion keys). */
export function normalisePhrase(text: string): string {
  return text.toLowerCase().normalize('NFKC').replace(/\s+/g, ' ').trim();
}

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text
    .toLowerCase()
    .normalize('NFKC')
    .match(/[\p{L}\p{N}]+(?:[.'][\p{L}\p{N}]+)*/gu) ?? []) {
    const token = raw.replace(/'/g, '');
    if (token.length === 0 || STOP_WORDS.has(token)) continue;
    out.push(stem(token));
  }
  return out;
}

/**
 * Where the query's terms occur in `text`, as [start, end) character ranges: each word of the
 * text whose term (lower-cased, stemmed, as `tokenize` makes it) is one of `terms`. For
 * highlighting, so "Pizzas" in a title lights up for the query "pizza".
 */
export function termRanges(text: string, terms: ReadonlySet<string>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  if (terms.size === 0) return ranges;
  for (const m of text.matchAll(/[\p{L}\p{N}]+(?:[.'][\p{L}\p{N}]+)*/gu)) {
    const token = m[0].toLowerCase().normalize('NFKC').replace(/'/g, '');
    if (terms.has(stem(token))) ranges.push([m.index, m.index + m[0].length]);
  }
  return ranges;
}

/** Strips common English plural endings ("pizzas" → "pizza", "boxes" → "box"); leaves numbers alone. */
function stem(token: string): string {
  if (/^\d/.test(token) || token.length <= 3) return token;
  if (token.endsWith('ies') && token.length > 4) return `${token.slice(0, -3)}y`;
  if (/(ches|shes|sses|xes|zes)$/.test(token)) return token.slice(0, -2);
  if (token.endsWith('s') && !token.endsWith('ss') && !token.endsWith('us')) return token.slice(0, -1);
  return token;
}
