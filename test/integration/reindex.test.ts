/**
 * A change of embedder is a change of vector space: start-up must say so and refuse to mix
 * spaces, and a reindex must rebuild every vector from the stored coupons and swap them in.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { waitFor } from '../support/processes.ts';
import { api, startServer, testEnv } from '../support/server.ts';
import { SHARED_DIR, tempDir } from '../support/tmp.ts';

const models = path.join(SHARED_DIR, 'models');
const missing = !existsSync(path.join(models, 'tiny-word-vectors'));

it.skipIf(missing)('switching the embedder requires a reindex, which rebuilds and swaps the vectors (needs ../shared/models)', async () => {
  const { dir, cleanup } = await tempDir('reindex-');
  try {
    const coupons = generateCatalogue({ size: 40, seed: 5 });
    const first = await startServer(testEnv(dir));
    await first.engine.upsertCoupons(coupons);
    await first.engine.queue.drained();
    await first.close();

    const second = await startServer(testEnv(dir, { EMBEDDER: 'transformers', TRANSFORMERS_MODEL: 'tiny-word-vectors', TRANSFORMERS_LOCAL_PATH: models }));
    try {
      const refused = await api(second.url, 'GET', '/v1/search?q=pizza');
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('reindex_required');
      expect(refused.json.error.message).toMatch(/glove-sif-100d@1 \(100-d.*transformers:tiny-word-vectors \(100-d.*npm run reindex/);
      const ready = await api(second.url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.checks.vector_space.ok).toBe(false);

      const job = await api(second.url, 'POST', '/v1/reindex');
      expect(job.status).toBe(202);
      const done = await waitFor('the reindex job', async () => {
        const j = (await api(second.url, 'GET', `/v1/jobs/${job.json.job_id}`)).json;
        return j.state === 'completed' || j.state === 'failed' ? j : undefined;
      });
      expect(done).toMatchObject({ state: 'completed', result: { coupons: 40 }, progress: 100 });
      const stats = await second.engine.store.stats();
      expect(stats).toMatchObject({ count: 40, space: { embedderId: 'transformers:tiny-word-vectors', dims: 100 } });
      expect((await api(second.url, 'GET', '/v1/search?q=pizza')).status).toBe(200);
      expect((await api(second.url, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await second.close();
    }
  } finally {
    await cleanup();
  }
});
