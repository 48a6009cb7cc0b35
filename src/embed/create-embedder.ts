import type { Config } from '../config.ts';
import type { Embedder } from './embedder.ts';
import { BridgedQueryEmbedder, loadQueryBridge, type QueryBridgeMetadata } from './query-bridge.ts';
import { StaticVectorEmbedder } from './static-vectors/static-vector-embedder.ts';
import { TransformersEmbedder } from './transformers-embedder.ts';
import { UseLiteEmbedder } from './use-lite/use-lite-embedder.ts';

export function createEmbedder(config: Config['embedder']): Embedder {
  switch (config.kind) {
    case 'static':
      return new StaticVectorEmbedder({ cacheDir: config.cacheDir, adaptationDir: config.adaptationDir });
    case 'use-lite':
      return new UseLiteEmbedder();
    case 'transformers':
      return new TransformersEmbedder({ model: config.model, localModelPath: config.localModelPath });
  }
}

/**
 * The query side. With the static embedder and a query bridge on disk: USE-lite through the bridge
 * serves the paraphrase retriever, and joins every query's vector when QUERY_BRIDGE_WEIGHT > 0.
 * Otherwise queries use the document embedder itself.
 */
export async function createQueryEmbedders(
  config: Config['embedder'],
  documents: Embedder,
): Promise<{ queries: Embedder; paraphrases?: Embedder; bridge?: QueryBridgeMetadata; unused?: string }> {
  if (config.kind !== 'static' || !config.queryBridge) return { queries: documents };
  const loaded = await loadQueryBridge(config.queryBridge.dir);
  if (!loaded) return { queries: documents };
  // A bridge into another space (say, before an adaptation) would put queries where no document is.
  if (loaded.bridge.target !== documents.id) {
    const unused = `the query bridge in ${config.queryBridge.dir} maps into ${loaded.bridge.target}, documents are in ${documents.id}: paraphrase retrieval is off until npm run train:embedder -- --bridge refits it`;
    return { queries: documents, unused };
  }
  const sentences = new UseLiteEmbedder();
  const paraphrases = config.queryBridge.paraphrase ? new BridgedQueryEmbedder(documents, sentences, loaded.bridge, Infinity) : undefined;
  const weight = config.queryBridge.weight;
  const queries = weight > 0 ? new BridgedQueryEmbedder(documents, sentences, loaded.bridge, weight) : documents;
  await Promise.all([paraphrases?.ready(), queries.ready()]);
  return { queries, ...(paraphrases && { paraphrases }), bridge: loaded.metadata };
}
