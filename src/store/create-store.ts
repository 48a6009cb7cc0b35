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
  const durable = createDurableStore(config);
  return serving ? new ServingStore(durable, serving) : durable;
}

function createDurableStore(config: Config['store']): VectorStore {
  switch (config.kind) {
    case 'embedded': {
      const { dir, annThreshold, readConsistencyMs, rowCacheSize } = config;
      return new LanceDbStore({ dir, annThreshold, readConsistencyMs, rowCacheSize });
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
