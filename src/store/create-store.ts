import type { Config } from '../config.ts';
import { LanceDbStore } from './lancedb/lancedb-store.ts';
import { QdrantStore } from './qdrant/qdrant-store.ts';
import { ServingStore } from './serving/serving-store.ts';
import type { VectorStore } from './vector-store.ts';

/**
 * The only place that knows which store adapter runs; engine code sees the VectorStore port. With
 * `serving`, searches are answered by the in-memory serving index in front of the store.
 */
export function createStore(config: Config['store'], serving?: Config['servingIndex']): VectorStore {
  if (!serving) return createDurableStore(config);
  // The serving index holds every decoded row already; LanceDB's own row cache would hold them twice.
  const durable = createDurableStore(config.kind === 'embedded' ? { ...config, rowCacheSize: Math.min(config.rowCacheSize, 1000) } : config);
  return new ServingStore(durable, serving);
}

function createDurableStore(config: Config['store']): VectorStore {
  switch (config.kind) {
    case 'embedded': {
      const { dir, annThreshold, readConsistencyMs, rowCacheSize, knnIndexWhenQuiet } = config;
      return new LanceDbStore({ dir, annThreshold, readConsistencyMs, rowCacheSize, knnIndexWhenQuiet });
    }
    case 'qdrant':
      return new QdrantStore({
        url: config.url,
        apiKey: config.apiKey,
        alias: config.collection,
        timeoutMs: config.timeoutMs,
        batchSize: config.batchSize,
        concurrency: config.concurrency,
        attempts: config.attempts,
      });
  }
}
