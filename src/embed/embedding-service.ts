import { MicroBatcher } from '../util/micro-batcher.ts';
import { LruCache } from '../util/lru.ts';
import type { Embedder } from './embedder.ts';

export interface EmbeddingServiceOptions {
  /** Embeds documents (e.g. an EmbedderPool over several threads). @defaultValue the query embedder */
  documentEmbedder?: Embedder;
  /** Document batches in flight at once. @defaultValue 1 */
  concurrency?: number;
  /** Query vectors kept in memory. @defaultValue 10000 */
  queryCacheSize?: number;
  /** Documents embedded per model call. @defaultValue 64 */
  batchSize?: number;
}

/**
 * What the engine calls to embed: queries through an LRU cache (people repeat queries), documents
 * through a micro-batcher so that concurrent indexing jobs share model calls.
 */
export class EmbeddingService {
  private readonly cache: LruCache<string, Float32Array>;
  private readonly batcher: MicroBatcher<string, Float32Array>;
  private readonly documents: Embedder;

  constructor(
    readonly embedder: Embedder,
    options: EmbeddingServiceOptions = {},
  ) {
    this.cache = new LruCache(options.queryCacheSize ?? 10_000);
    const documents = (this.documents = options.documentEmbedder ?? embedder);
    const size = options.batchSize ?? 64;
    this.batcher = new MicroBatcher({
      run: (texts) => embedInChunks(documents, texts, size),
      maxBatch: size,
      maxWaitMs: 5,
      concurrency: options.concurrency ?? 1,
    });
  }

  async embedQuery(text: string): Promise<Float32Array> {
    const key = text.trim().replace(/\s+/g, ' ');
    const hit = this.cache.get(key);
    if (hit) return hit;
    const [vector] = await this.embedder.embed([key]);
    this.cache.set(key, vector!);
    return vector!;
  }

  embedDocuments(texts: string[]): Promise<Float32Array[]> {
    return this.batcher.submit(texts);
  }

  async close(): Promise<void> {
    await this.batcher.flush();
    await this.embedder.close();
    if (this.documents !== this.embedder) await this.documents.close();
  }
}

async function embedInChunks(embedder: Embedder, texts: string[], size: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) out.push(...(await embedder.embed(texts.slice(i, i + size))));
  return out;
}
