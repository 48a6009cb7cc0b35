import { LanceDbStore } from '../../src/store/lancedb/lancedb-store.ts';
import { describeVectorStore } from '../contract/vector-store.contract.ts';
import { tempDir } from '../support/tmp.ts';

describeVectorStore('LanceDB (temp dir)', async ({ annThreshold }) => {
  const { dir, cleanup } = await tempDir('lancedb-contract-');
  return { store: new LanceDbStore({ dir, annThreshold: annThreshold ?? 5000, readConsistencyMs: 0, rowCacheSize: 10_000 }), dispose: cleanup };
});
