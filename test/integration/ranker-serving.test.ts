/**
 * The rank stage with a learned ranker: saved artifacts load at start-up, search results explain
 * their features and model score, and a ranker that cannot load leaves search on the fused order
 * with /readyz saying so.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANKING_FEATURES } from '../../src/ranking/features.ts';
import { generateCatalogue } from '../../src/sample/catalogue.ts';
import { api, startServer, testEnv, type TestServer } from '../support/server.ts';
import { saveSyntheticRanker } from '../support/rankers.ts';
import { tempDir } from '../support/tmp.ts';

describe('learned ranker in the search pipeline', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: TestServer;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('ranker-serving-'));
    // A small ranker trained to prefer query-term coverage (feature `query_coverage`).
    await saveSyntheticRanker(path.join(dir, 'ranker'), 'query_coverage', { seed: 1, lists: 100, epochs: 5, idf: { pizza: 2.5, '': 9 } });
    server = await startServer(testEnv(path.join(dir, 'data'), { RANKER_MODEL_DIR: path.join(dir, 'ranker') }));
    await server.engine.upsertCoupons(generateCatalogue({ size: 120, seed: 5 }));
    await server.engine.queue.drained();
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('scores candidates with the model and explains the features behind each score', async () => {
    const ready = await api(server.url, 'GET', '/readyz');
    expect(ready.json.checks.ranker.detail).toMatch(/^listwise-mlp-ranker .* \(features v3\)$/);
    const res = await api(server.url, 'GET', '/v1/search?q=pizza+for+two&limit=5&explain=true');
    expect(res.status).toBe(200);
    const first = res.json.results[0].explain.rank;
    expect(first.scorer).toBe('ltr');
    expect(Object.keys(first.features)).toEqual([...RANKING_FEATURES]);
    const scores = res.json.results.map((r: { explain: { rank: { score: number } } }) => r.explain.rank.score);
    expect(scores.length).toBe(5);
  });

  it('keeps the fused order, and says so, when the model does not match the engine', async () => {
    const broken = path.join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'idf.json']) await writeFile(path.join(broken, f), await readFile(path.join(dir, 'ranker', f)));
    const meta = JSON.parse(await readFile(path.join(dir, 'ranker', 'metadata.json'), 'utf8'));
    await writeFile(path.join(broken, 'metadata.json'), JSON.stringify({ ...meta, features: { version: 0, names: ['old'] } }));
    const other = await startServer(testEnv(path.join(dir, 'data2'), { RANKER_MODEL_DIR: broken }));
    try {
      expect((await api(other.url, 'GET', '/readyz')).json.checks.ranker.detail).toMatch(/failed to load .*retrain.*: fused order/);
      const res = await api(other.url, 'GET', '/v1/search?q=pizza&explain=true');
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
