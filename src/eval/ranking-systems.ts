import { type FusionSettings, fusedScores } from '../search/fusion.ts';
import { queryTerms, titleMatch } from '../text/title-match.ts';
import { tokenize } from '../text/tokenize.ts';
import { mean, ndcg, tieHash } from '../util/ranking-metrics.ts';

/** A retrieved product with its per-list ranks and scores and its fused rank, as in the engine. */
export interface Candidate {
  id: string;
  title: string;
  dense?: { rank: number; score: number };
  lexical?: { rank: number; score: number };
  paraphrase?: { rank: number; score: number };
  fused?: { rank: number; score: number };
}

/** The union of a dense and a lexical list, fused with the engine's own fusion function (title match included). */
export function pool(
  query: string,
  dense: ReadonlyArray<{ id: string; score: number }>,
  lexical: ReadonlyArray<{ id: string; score: number }>,
  fusion: FusionSettings,
  titleOf: ReadonlyMap<string, string>,
  paraphrase: ReadonlyArray<{ id: string; score: number }> = [],
): Candidate[] {
  const byId = new Map<string, Candidate>();
  const get = (id: string) => byId.get(id) ?? byId.set(id, { id, title: titleOf.get(id) ?? '' }).get(id)!;
  dense.forEach((h, i) => (get(h.id).dense = { rank: i + 1, score: h.score }));
  lexical.forEach((h, i) => (get(h.id).lexical = { rank: i + 1, score: h.score }));
  paraphrase.forEach((h, i) => (get(h.id).paraphrase = { rank: i + 1, score: h.score }));
  const list = [...byId.values()];
  const q = queryTerms(query);
  const scores = fusedScores(
    list,
    fusion,
    list.map((c) => titleMatch(q, tokenize(c.title))),
  );
  const ranked = list.map((c, i) => ({ c, s: scores[i]! })).sort((x, y) => y.s - x.s || tieHash(y.c.id) - tieHash(x.c.id));
  ranked.forEach(({ c, s }, i) => (c.fused = { rank: i + 1, score: s }));
  return ranked.map(({ c }) => c);
}

/** Ids by descending score (ties by a hash of the id); `score` gets each candidate's index in `candidates`. */
export function order(candidates: readonly Candidate[], score: (c: Candidate, index: number) => number): string[] {
  return candidates
    .map((c, i) => ({ id: c.id, s: score(c, i) }))
    .sort((a, b) => b.s - a.s || tieHash(b.id) - tieHash(a.id))
    .map((x) => x.id);
}

export interface Metrics {
  ndcg10: number;
  ndcg10_condensed: number;
  recall100: number;
  rerank_ndcg5?: number;
  rerank_ndcg10?: number;
}

interface PerQuery {
  ndcg10: number[];
  condensed: number[];
  recall100: number[];
  rerank5: number[];
  rerank10: number[];
}

/** Relevant for Recall@100: mean relevance ≥ 2.33 of 3. */
const RELEVANT_GAIN = (2.33 - 1) / 2 - 1e-9;

/** The share of a query's relevant products among `ids` (undefined when none is relevant). */
export function recallOf(judged: ReadonlyMap<string, number>, ids: readonly string[]): number | undefined {
  const relevant = [...judged].filter(([, g]) => g >= RELEVANT_GAIN).map(([id]) => id);
  if (!relevant.length) return undefined;
  const found = new Set(ids);
  return relevant.filter((id) => found.has(id)).length / relevant.length;
}

/**
 * Per-system metrics over the test queries: whole-corpus NDCG@10, condensed NDCG@10 (unjudged
 * results dropped), Recall@100 of the relevant products and, where given, NDCG@5/10 of reranking
 * only the judged products.
 */
export class MetricsTable {
  private readonly systems = new Map<string, PerQuery>();

  add(system: string, judged: ReadonlyMap<string, number>, ranked: readonly string[], rerank?: readonly string[]): void {
    const m = this.systems.get(system) ?? this.systems.set(system, { ndcg10: [], condensed: [], recall100: [], rerank5: [], rerank10: [] }).get(system)!;
    const gains = [...judged.values()];
    const gain = (id: string) => judged.get(id) ?? 0;
    m.ndcg10.push(ndcg(ranked.map(gain), 10, gains));
    m.condensed.push(ndcg(ranked.filter((id) => judged.has(id)).map(gain), 10, gains));
    const recall = recallOf(judged, ranked.slice(0, 100));
    if (recall !== undefined) m.recall100.push(recall);
    if (rerank && judged.size >= 3) {
      m.rerank5.push(ndcg(rerank.map(gain), 5, gains));
      m.rerank10.push(ndcg(rerank.map(gain), 10, gains));
    }
  }

  summary(): Record<string, Metrics> {
    return Object.fromEntries(
      [...this.systems].map(([name, m]) => [
        name,
        {
          ndcg10: round(mean(m.ndcg10)),
          ndcg10_condensed: round(mean(m.condensed)),
          recall100: round(mean(m.recall100)),
          ...(m.rerank5.length && { rerank_ndcg5: round(mean(m.rerank5)), rerank_ndcg10: round(mean(m.rerank10)) }),
        },
      ]),
    );
  }

  markdown(): string {
    const cell = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
    const lines = [
      '| system | NDCG@10 (whole corpus) | NDCG@10 (condensed) | Recall@100 (≥ 2.33) | rerank NDCG@5 | rerank NDCG@10 |',
      '|---|---|---|---|---|---|',
    ];
    for (const [name, r] of Object.entries(this.summary())) {
      lines.push(`| ${name} | ${cell(r.ndcg10)} | ${cell(r.ndcg10_condensed)} | ${cell(r.recall100)} | ${cell(r.rerank_ndcg5)} | ${cell(r.rerank_ndcg10)} |`);
    }
    return lines.join('\n');
  }
}

const round = (x: number) => Number(x.toFixed(4));
