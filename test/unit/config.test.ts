import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(3000);
    expect(config.queue.redisUrl).toBeUndefined();
    expect(config.embedder).toEqual({ kind: 'use-lite' });
    expect(config.search.candidates).toBe(200);
    expect(config.store.dir.endsWith('data/lancedb')).toBe(true);
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
