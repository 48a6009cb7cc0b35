import { bridgeVector, combineQueryVectors, loadQueryBridge } from '../embed/query-bridge.ts';
import type { EmbedderAdaptation } from '../embed/static-vectors/adaptation.ts';
import { StaticVectorEmbedder } from '../embed/static-vectors/static-vector-embedder.ts';
import { cachedEmbeddings } from './embedding-cache.ts';
import { ExactDenseIndex } from './dense-index.ts';

/** One way of embedding the corpus and the queries, searched exactly. */
export interface DenseSource {
  name: string;
  index: ExactDenseIndex;
  queryVector(query: string): Float32Array;
  /** The top `k` for a query (memoised: the evaluation asks for the same list under several fusions). */
  search(query: string, k: number): Array<{ id: string; score: number }>;
  /** Cosine of a query to a product, for the judged-products-only ("rerank") metrics. */
  similarity(query: string, productIndex: number): number;
}

function sourceOf(name: string, index: ExactDenseIndex, queryVector: (q: string) => Float32Array): DenseSource {
  const cache = new Map<string, Float32Array>();
  const vectorOf = (q: string) => cache.get(q) ?? cache.set(q, queryVector(q)).get(q)!;
  const lists = new Map<string, Array<{ id: string; score: number }>>();
  return {
    name,
    index,
    queryVector: vectorOf,
    search: (q, k) => {
      const key = `${k}\u0000${q}`;
      return lists.get(key) ?? lists.set(key, index.search(vectorOf(q), k)).get(key)!;
    },
    similarity: (q, i) => {
      const a = vectorOf(q);
      const b = index.vector(i);
      let s = 0;
      for (let d = 0; d < a.length; d++) s += a[d]! * b[d]!;
      return s;
    },
  };
}

export async function staticSource(
  ids: readonly string[],
  titles: readonly string[],
  cacheDir: string,
  adaptation?: EmbedderAdaptation,
  name = 'static',
): Promise<DenseSource> {
  const embedder = new StaticVectorEmbedder({ cacheDir, adaptation });
  await embedder.ready();
  return sourceOf(
    name,
    new ExactDenseIndex(
      ids,
      titles.map((t) => embedder.embedOne(t)),
    ),
    (q) => embedder.embedOne(q),
  );
}

/** USE-lite on both sides (vectors cached under .cache/ by text hash). */
export async function useLiteSource(ids: readonly string[], titles: readonly string[], queries: readonly string[]): Promise<DenseSource> {
  const docs = await cachedEmbeddings(titles);
  const qv = await cachedEmbeddings(queries);
  const byQuery = new Map(queries.map((q, i) => [q, qv[i]!]));
  return sourceOf('use-lite', new ExactDenseIndex(ids, docs), (q) => byQuery.get(q)!);
}

/**
 * Static documents, queries through the shipped query bridge as the engine serves them:
 * normalize(static(q) + weight · bridge(USE-lite(q))). Undefined without a bridge in `bridgeDir`.
 */
export async function bridgedSource(staticDocs: DenseSource, bridgeDir: string, queries: readonly string[], weight: number): Promise<DenseSource | undefined> {
  const loaded = await loadQueryBridge(bridgeDir);
  if (!loaded) return undefined;
  const qv = await cachedEmbeddings(queries);
  const bridged = new Map(queries.map((q, i) => [q, bridgeVector(loaded.bridge, qv[i]!)]));
  const name = weight === Infinity ? 'bridge only (paraphrase retriever)' : `static+bridge(${weight})`;
  return sourceOf(name, staticDocs.index, (q) =>
    weight === Infinity ? bridged.get(q)! : combineQueryVectors(staticDocs.queryVector(q), bridged.get(q)!, weight),
  );
}
