import { describe, expect, it } from 'vitest';
import { LanceDbStore } from '../../src/store/lancedb/lancedb-store.ts';
import { describeVectorStore, SPACE, seededCorpus } from '../contract/vector-store.contract.ts';
import { tempDir } from '../support/tmp.ts';

describeVectorStore('LanceDB (temp dir)', async ({ annThreshold }) => {
  const { dir, cleanup } = await tempDir('lancedb-contract-');
  return { store: new LanceDbStore({ dir, annThreshold: annThreshold ?? 5000, readConsistencyMs: 0, rowCacheSize: 10_000 }), dispose: cleanup };
});

describe('LanceDB behind a serving index (knnIndexWhenQuiet)', () => {
  it('builds no kNN index while writes stream, and builds it once they go quiet', async () => {
    const { dir, cleanup } = await tempDir('lancedb-quiet-');
    const store = new LanceDbStore({ dir, annThreshold: 1000, readConsistencyMs: 0, rowCacheSize: 100, knnIndexWhenQuiet: true });
    try {
      await store.open(SPACE);
      const docs = seededCorpus(1500, 5);
      for (let i = 0; i < docs.length; i += 500) await store.upsert(docs.slice(i, i + 500));
      await store.optimize({ streaming: true });
      const streaming = await store.stats();
      expect(streaming.annIndexed).toBe(false);
      expect(streaming.fragments).toBe(1); // compaction still ran
      await store.optimize();
      const quiet = await store.stats();
      expect(quiet.annIndexed).toBe(true);
      expect(quiet.count).toBe(docs.length);
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
