import { tokenize } from '../text/tokenize.ts';

/**
 * The ranking feature schema (v1): one vector per (query, candidate), the same for training,
 * serving and the browser. Every signal that can be absent has a value and a missing flag.
 * Lexical features matter most on keyword-heavy product and coupon text (brands, sizes, model
 * numbers); see ../shared/README.md.
 */
export const RANKING_FEATURES_VERSION = 1;
export const RANKING_FEATURES = [
  'dense_cosine',
  'dense_rank_log',
  'dense_missing',
  'bm25_score',
  'bm25_rank_log',
  'bm25_missing',
  'fused_rank_log',
  'query_coverage',
  'query_prefix_coverage',
  'bigram_coverage',
  'exact_phrase',
  'numbers_matched',
  'numbers_missing',
  'first_term_match',
  'last_term_match',
  'title_terms_log',
  'query_terms',
  'idf_coverage',
  'fuzzy_coverage',
  'unmatched_max_idf',
  'title_coverage',
  'bm25_relative',
  'trigram_query_coverage',
  'trigram_jaccard',
] as const;

export interface RetrievalSignal {
  rank: number;
  score: number;
}

export interface FeatureInput {
  query: string;
  title: string;
  dense?: RetrievalSignal | undefined;
  bm25?: RetrievalSignal | undefined;
  fusedRank: number;
}

const NUMBER = /^\d+(\.\d+)?$/;

/** Inverse document frequency of a term in the searched corpus (rare terms: brands, model numbers). */
export type IdfLookup = (term: string) => number;

/** Query-side work done once per query and reused for every candidate. */
export interface PreparedQuery {
  text: string;
  terms: string[];
  idf: number[];
  bigrams: Set<string>;
  numbers: string[];
  /** Best BM25 score among the candidates, for relative scores. */
  maxBm25: number;
  /** Character trigrams of the query without spaces: robust to misspellings and split compounds. */
  trigrams: Set<string>;
}

export function prepareQuery(query: string, options: { idf?: IdfLookup; maxBm25?: number } = {}): PreparedQuery {
  const terms = tokenize(query);
  return {
    text: normalise(query),
    terms,
    idf: terms.map((t) => options.idf?.(t) ?? 1),
    bigrams: new Set(terms.slice(1).map((t, i) => `${terms[i]} ${t}`)),
    numbers: terms.filter((t) => NUMBER.test(t)),
    maxBm25: options.maxBm25 ?? 0,
    trigrams: trigramsOf(query),
  };
}

function trigramsOf(text: string): Set<string> {
  const s = normalise(text).replace(/ /g, '');
  const out = new Set<string>();
  for (let i = 0; i + 3 <= s.length; i++) out.add(s.slice(i, i + 3));
  return out;
}

/** IDF per term of a corpus (BM25's idf), to store with a model; `idfLookup` reads it back. */
export function idfTable(texts: Iterable<string>): Record<string, number> {
  const df = new Map<string, number>();
  let n = 0;
  for (const t of texts) {
    n++;
    for (const term of new Set(tokenize(t))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const table: Record<string, number> = { '': Math.log(1 + (n + 0.5) / 0.5) };
  for (const [term, d] of df) table[term] = Math.log(1 + (n - d + 0.5) / (d + 0.5));
  return table;
}

/** An IDF lookup over a table; an unseen term is as rare as a term can be (the '' entry). */
export function idfLookup(table: ReadonlyMap<string, number> | Record<string, number>): IdfLookup {
  const get = table instanceof Map ? (t: string) => table.get(t) : (t: string) => (table as Record<string, number>)[t];
  const unseen = get('') ?? 10;
  return (term) => get(term) ?? unseen;
}

/** Document frequencies of a corpus as an IDF lookup. */
export function idfFromCorpus(texts: Iterable<string>): IdfLookup {
  return idfLookup(idfTable(texts));
}

/** Damerau–Levenshtein distance ≤ 1 (one insertion, deletion, substitution or transposition). */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

export function rankingFeatures(q: PreparedQuery, input: Omit<FeatureInput, 'query'>): Float32Array {
  const titleTerms = tokenize(input.title);
  const titleSet = new Set(titleTerms);
  const titleBigrams = new Set(titleTerms.slice(1).map((t, i) => `${titleTerms[i]} ${t}`));
  const n = Math.max(1, q.terms.length);
  const covered = q.terms.filter((t) => titleSet.has(t)).length / n;
  const prefix = q.terms.filter((t) => titleSet.has(t) || titleTerms.some((x) => x.startsWith(t) || (x.length >= 3 && t.startsWith(x)))).length / n;
  const bigrams = q.bigrams.size ? [...q.bigrams].filter((b) => titleBigrams.has(b)).length / q.bigrams.size : covered;
  const numbers = q.numbers.length ? q.numbers.filter((x) => titleSet.has(x)).length / q.numbers.length : 0;
  const idfTotal = q.idf.reduce((a, b) => a + b, 0) || 1;
  const matched = q.terms.map((t) => titleSet.has(t));
  const fuzzy = q.terms.filter((t, i) => matched[i] || (t.length >= 4 && titleTerms.some((x) => withinOneEdit(t, x)))).length / n;
  const unmatchedIdf = Math.max(0, ...q.terms.map((_, i) => (matched[i] ? 0 : q.idf[i]!)));
  const titleCovered = titleTerms.length ? titleTerms.filter((t) => q.terms.includes(t)).length / titleTerms.length : 0;
  const titleTrigrams = trigramsOf(input.title);
  const sharedTrigrams = [...q.trigrams].filter((g) => titleTrigrams.has(g)).length;
  return Float32Array.from([
    input.dense?.score ?? 0,
    input.dense ? Math.log1p(input.dense.rank) : 0,
    input.dense ? 0 : 1,
    input.bm25?.score ?? 0,
    input.bm25 ? Math.log1p(input.bm25.rank) : 0,
    input.bm25 ? 0 : 1,
    Math.log1p(input.fusedRank),
    covered,
    prefix,
    bigrams,
    q.text.length > 0 && normalise(input.title).includes(q.text) ? 1 : 0,
    numbers,
    q.numbers.length ? 0 : 1,
    q.terms.length && titleSet.has(q.terms[0]!) ? 1 : 0,
    q.terms.length && titleSet.has(q.terms.at(-1)!) ? 1 : 0,
    Math.log1p(titleTerms.length),
    q.terms.length,
    q.terms.reduce((sum, _, i) => sum + (matched[i] ? q.idf[i]! : 0), 0) / idfTotal,
    fuzzy,
    unmatchedIdf,
    titleCovered,
    input.bm25 && q.maxBm25 > 0 ? input.bm25.score / q.maxBm25 : 0,
    q.trigrams.size ? sharedTrigrams / q.trigrams.size : 0,
    sharedTrigrams / Math.max(1, q.trigrams.size + titleTrigrams.size - sharedTrigrams),
  ]);
}

function normalise(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** Per-feature mean and standard deviation, fitted on training rows and stored with the model. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

export function fitNormalisation(rows: readonly Float32Array[]): Normalisation {
  const d = rows[0]!.length;
  const mean = new Array(d).fill(0), sq = new Array(d).fill(0);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k] += r[k]! / rows.length;
  for (const r of rows) for (let k = 0; k < d; k++) sq[k] += (r[k]! - mean[k]) ** 2 / rows.length;
  return { mean, std: sq.map((v) => Math.max(Math.sqrt(v), 1e-6)) };
}

export function applyNormalisation(row: Float32Array, n: Normalisation): Float32Array {
  return row.map((x, k) => (x - n.mean[k]!) / n.std[k]!);
}
