import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(3000);
    expect(config.queue.redisUrl).toBeUndefined();
    expect(config.embedder).toEqual({
      kind: 'static',
      cacheDir: path.resolve('.cache/static-vectors'),
      adaptationDir: path.resolve('models/embedder'),
      queryBridge: { dir: path.resolve('models/query-bridge'), weight: 0, paraphrase: true },
    });
    expect(config.search.fusion).toMatchObject({ method: 'convex', normalization: 'max', weights: { dense: 0.1, lexical: 0.9, paraphrase: 0.5 } });
    expect(config.search.candidates).toBe(100);
    expect(config.store).toMatchObject({ kind: 'embedded', annThreshold: 5000 });
    expect(config.store.kind === 'embedded' && config.store.dir.endsWith('data/lancedb')).toBe(true);
  });

  it('needs QDRANT_URL for the Qdrant store', () => {
    expect(() => loadConfig({ VECTOR_STORE: 'qdrant' })).toThrow(/QDRANT_URL/);
    expect(loadConfig({ VECTOR_STORE: 'qdrant', QDRANT_URL: 'http://127.0.0.1:6333' }).store).toMatchObject({ kind: 'qdrant', collection: 'coupons' });
  });

  it('names every bad variable at start-up', () => {
    expect(() => loadConfig({ PORT: 'eighty', SEARCH_CANDIDATES: '5', REDIS_URL: 'not a url', EMBEDDER: 'gpt' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', SEARCH_CANDIDATES: '5', REDIS_URL: 'not a url', EMBEDDER: 'gpt' });
    } catch (error) {
      for (const name of ['PORT', 'SEARCH_CANDIDATES', 'REDIS_URL', 'EMBEDDER']) expect((error as Error).message).toContain(name);
    }
  });
});
