/**
 * Domain adaptation of the static embedder: trained on query → coupon pairs, saved as a versioned
 * artifact, loaded by serving, and a change of vector space that the store answers with "reindex".
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dot } from '../../src/embed/embedder.ts';
import { loadAdaptation, saveAdaptation } from '../../src/embed/static-vectors/adaptation.ts';
import { StaticVectorEmbedder } from '../../src/embed/static-vectors/static-vector-embedder.ts';
import { type TrainingPair, trainAdaptation } from '../../src/embed/static-vectors/train-adaptation.ts';
import { waitFor } from '../support/processes.ts';
import { makeCoupon } from '../support/coupons.ts';
import { api, startServer, testEnv } from '../support/server.ts';
import { tempDir } from '../support/tmp.ts';

const STATIC_CACHE = path.resolve(import.meta.dirname, '../../.cache/static-vectors');

// Shoppers of this marketplace call pizza "zorbo" and an oil change a "quixa": words no
// pretrained table knows. Only their own queries can teach it.
const PIZZA = ['Large pepperoni pizza', 'Margherita pizza for two', 'Family pizza night bundle', 'Two medium pizzas with garlic knots'];
const OIL = ['Full synthetic oil change', 'Oil and filter change', 'Conventional oil change with inspection', 'Express oil change'];
const pairs: TrainingPair[] = [];
for (let i = 0; i < 40; i++) {
  pairs.push({ query: ['zorbo', 'zorbo deal', 'cheap zorbo', 'zorbo tonight'][i % 4]!, document: PIZZA[i % PIZZA.length]! });
  pairs.push({ query: ['quixa', 'quixa coupon', 'quick quixa', 'quixa near me'][i % 4]!, document: OIL[i % OIL.length]! });
}

async function save(dir: string, base: StaticVectorEmbedder, adaptation: Parameters<typeof saveAdaptation>[1], training: Record<string, unknown>) {
  await saveAdaptation(dir, adaptation, {
    name: 'static-embedder-adaptation',
    version: '1.0.0+test',
    created_at: new Date().toISOString(),
    base: { embedder: base.id, table: base.wordTable.fingerprint },
    dims: { in: adaptation.inDims, out: adaptation.outDims },
    words: adaptation.words.length,
    training,
    metrics: {},
  });
}

describe('static embedder adaptation', () => {
  it('learns words the pretrained table lacks, saves as model.json + weights.bin + metadata, and serves the same vectors', async () => {
    const base = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE });
    await base.ready();
    const [zorboBefore] = await base.embed(['zorbo']);
    // Unknown to the table: the uniform vector, which carries no meaning.
    expect(new Set(zorboBefore!).size).toBe(1);

    const { adaptation, history } = await trainAdaptation(base.wordTable, pairs, { epochs: 30, batchSize: 16 });
    expect(history.at(-1)!).toBeLessThan(history[0]!);
    const { dir, cleanup } = await tempDir('adaptation-');
    try {
      await save(dir, base, adaptation, { pairs: pairs.length });
      const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
      expect(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(['word_rows', 'projection']);

      const served = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE, adaptationDir: dir });
      await served.ready();
      expect(served.id).toMatch(/^glove-sif-100d@1\+adapt-[0-9a-f]{10}$/);
      expect(served.adaptationInfo?.training).toEqual({ pairs: pairs.length });
      const [zorbo, quixa, pizzaDoc, oilDoc] = await served.embed(['zorbo', 'quixa', 'Pepperoni pizza slice', 'Oil change special']);
      expect(dot(zorbo!, pizzaDoc!)).toBeGreaterThan(dot(zorbo!, oilDoc!) + 0.2);
      expect(dot(quixa!, oilDoc!)).toBeGreaterThan(dot(quixa!, pizzaDoc!) + 0.2);
      // An adaptation of another word table is refused, with the command that fixes it.
      await expect(loadAdaptation(dir, 'another-table')).rejects.toThrow(/npm run train:embedder/);
    } finally {
      await cleanup();
    }
  }, 120_000);

  it('serving an adaptation is a new vector space: the store asks for a reindex, after which adapted search works', async () => {
    const base = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE });
    await base.ready();
    const { adaptation } = await trainAdaptation(base.wordTable, pairs, { epochs: 30, batchSize: 16 });
    const data = await tempDir('adaptation-engine-');
    const model = await tempDir('adaptation-model-');
    try {
      await save(model.dir, base, adaptation, {});
      const coupons = [...PIZZA, ...OIL].map((title, i) => makeCoupon(`c${i}`, { title, merchant: { id: `m${i}`, name: `Shop ${i}` } }));
      const first = await startServer(testEnv(data.dir));
      await first.engine.upsertCoupons(coupons);
      await first.engine.queue.drained();
      await first.close();

      const second = await startServer(testEnv(data.dir, { EMBEDDER_ADAPTATION_DIR: model.dir }));
      try {
        const refused = await api(second.url, 'GET', '/v1/search?q=zorbo');
        expect(refused.status).toBe(503);
        expect(refused.json.error.message).toMatch(/glove-sif-100d@1 .*glove-sif-100d@1\+adapt-.*npm run reindex/);
        const job = await api(second.url, 'POST', '/v1/reindex');
        expect(job.status).toBe(202);
        await waitFor('the reindex job', async () => (await api(second.url, 'GET', `/v1/jobs/${job.json.job_id}`)).json.state === 'completed');
        const res = await api(second.url, 'GET', '/v1/search?q=zorbo&limit=4');
        expect(res.status).toBe(200);
        // No coupon contains "zorbo": only the adapted vectors can find the pizzas (MMR may bring
        // in one other coupon lower down, for variety).
        const titles: string[] = res.json.results.map((r: { coupon: { title: string } }) => r.coupon.title);
        expect(
          titles.slice(0, 2).every((t) => /pizza/i.test(t)),
          JSON.stringify(titles),
        ).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await data.cleanup();
      await model.cleanup();
    }
  }, 180_000);
});
