import { MicroBatcher } from '../util/micro-batcher.ts';
import { LruCache } from '../util/lru.ts';
import type { Embedder } from './embedder.ts';

export interface EmbeddingServiceOptions {
  /** Embeds queries for the paraphrase retriever (the sentence encoder through the query bridge). @defaultValue none */
  paraphraseEmbedder?: Embedder;
  /** Embeds queries into the documents' space (e.g. a BridgedQueryEmbedder). @defaultValue the embedder */
  queryEmbedder?: Embedder;
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
  /** What queries go through: the embedder itself, or a bridge into its space. */
  readonly queries: Embedder;
  /** The paraphrase retriever's query embedder, when there is one. */
  readonly paraphrases: Embedder | undefined;
  private readonly paraphraseCache: LruCache<string, Float32Array>;

  constructor(
    readonly embedder: Embedder,
    options: EmbeddingServiceOptions = {},
  ) {
    this.cache = new LruCache(options.queryCacheSize ?? 10_000);
    this.queries = options.queryEmbedder ?? embedder;
    this.paraphrases = options.paraphraseEmbedder;
    this.paraphraseCache = new LruCache(options.queryCacheSize ?? 10_000);
    const documents = (this.documents = options.documentEmbedder ?? embedder);
    const size = options.batchSize ?? 64;
    this.batcher = new MicroBatcher({
      run: (texts) => embedInChunks(documents, texts, size),
      maxBatch: size,
      maxWaitMs: 5,
      concurrency: options.concurrency ?? 1,
    });
  }

  /** Says how queries are embedded, for `explain`. */
  get queryPath(): string {
    return this.queries === this.embedder ? this.embedder.id : `${this.embedder.id}, queries also through USE-lite and the query bridge`;
  }

  embedQuery(text: string): Promise<Float32Array> {
    return cachedEmbed(this.queries, this.cache, text);
  }

  /** The query in the documents' space through the paraphrase embedder (cached like queries). */
  embedParaphrase(text: string): Promise<Float32Array> {
    if (!this.paraphrases) throw new Error('embedParaphrase: no paraphrase embedder configured');
    return cachedEmbed(this.paraphrases, this.paraphraseCache, text);
  }

  embedDocuments(texts: string[]): Promise<Float32Array[]> {
    return this.batcher.submit(texts);
  }

  async close(): Promise<void> {
    await this.batcher.flush();
    await this.embedder.close();
    if (this.documents !== this.embedder) await this.documents.close();
    if (this.queries !== this.embedder) await this.queries.close();
    if (this.paraphrases && this.paraphrases !== this.queries) await this.paraphrases.close();
  }
}

async function cachedEmbed(embedder: Embedder, cache: LruCache<string, Float32Array>, text: string): Promise<Float32Array> {
  const key = text.trim().replace(/\s+/g, ' ');
  const hit = cache.get(key);
  if (hit) return hit;
  const [vector] = await embedder.embed([key]);
  cache.set(key, vector!);
  return vector!;
}

async function embedInChunks(embedder: Embedder, texts: string[], size: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) out.push(...(await embedder.embed(texts.slice(i, i + size))));
  return out;
}
