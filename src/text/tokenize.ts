/**
 * The one lexical tokenizer of the engine: lower-cased word and number tokens, English stop words
 * dropped, a light plural stemmer. Used for BM25 sparse vectors, query-term features and tests, so
 * that every store and the ranker agree on what a "term" is.
 */
const STOP_WORDS = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were will with your you our off'.split(' '));

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

/** Strips common English plural endings ("pizzas" → "pizza", "boxes" → "box"); leaves numbers alone. */
function stem(token: string): string {
  if (/^\d/.test(token) || token.length <= 3) return token;
  if (token.endsWith('ies') && token.length > 4) return `${token.slice(0, -3)}y`;
  if (/(ches|shes|sses|xes|zes)$/.test(token)) return token.slice(0, -2);
  if (token.endsWith('s') && !token.endsWith('ss') && !token.endsWith('us')) return token.slice(0, -1);
  return token;
}
