/** The hybrid recommender's artifacts round-trip: saved towers load on their own and score identically. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createEmbedder } from '../../src/embed/create-embedder.ts';
import { tfRuntime } from '../../src/embed/tf-runtime.ts';
import { RecommenderService } from '../../src/recommend/recommender-service.ts';
import { REPO_ROOT } from '../support/processes.ts';
import { loadRecommender, saveRecommender } from '../../src/recommend/artifacts.ts';
import { historyMeans } from '../../src/recommend/two-tower.ts';
import { trainToy } from '../support/recommender.ts';
import { tempDir } from '../support/tmp.ts';

it('saves model.json + weights.bin per tower and metadata.json, and reloads to identical outputs', async () => {
  const tf = await tfRuntime();
  const { world, model } = await trainToy();
  const { dir, cleanup } = await tempDir('rec-artifacts-');
  try {
    const meta = await saveRecommender(dir, model, {
      dataset: 'toy',
      interactions: world.interactions,
      metrics: { hr10: 1 },
      features: { item_content: 'toy[8]' },
    });
    for (const tower of ['user_tower', 'item_tower']) {
      const json = JSON.parse(await readFile(path.join(dir, tower, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    }
    expect(meta).toMatchObject({ name: 'two-tower-hybrid', dims: 16, vocabulary: { users: 60, items: 80, unknown_index: 0 }, metrics: { hr10: 1 } });
    expect(meta.data_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(meta)));

    const loaded = await loadRecommender(dir);
    const history = historyMeans(world.interactions, world.numUsers, world.itemContent);
    const userIn = () => [
      tf.tensor2d([[1], [0], [7]], [3, 1], 'int32'),
      tf.tensor2d([0, 1, 2].map((u) => Array.from(world.userFeatures[u]!))),
      tf.tensor2d([0, 1, 2].map((u) => Array.from(history[u]!))),
    ];
    const itemIn = () => [tf.tensor2d([[1], [0], [42]], [3, 1], 'int32'), tf.tensor2d([0, 1, 41].map((i) => Array.from(world.itemContent[i]!)))];
    const same = async (a: LayersModel, b: LayersModel, inputs: () => Tensor[]) => {
      const x = await (a.predict(inputs()) as Tensor).data();
      const y = await (b.predict(inputs()) as Tensor).data();
      expect(Array.from(y)).toEqual(Array.from(x));
    };
    await same(model.towers!.user, loaded.user, userIn);
    await same(model.towers!.item, loaded.item, itemIn);
  } finally {
    await cleanup();
  }
});

it('serves the committed model only beside the embedder it was trained on (the default), and says why otherwise', async () => {
  const dir = path.join(REPO_ROOT, 'models/recommender');
  const embedder = createEmbedder(loadConfig({}).embedder);
  await embedder.ready();
  try {
    const served = await RecommenderService.load(dir, { embedderId: embedder.id, dims: embedder.dims });
    expect(served).toBeInstanceOf(RecommenderService);
    const refused = await RecommenderService.load(dir, { embedderId: 'use-lite@1', dims: 512 });
    expect(refused).toEqual({ unusable: expect.stringContaining(`trained on ${embedder.id}, the running embedder is use-lite@1 (512-d)`) });
    expect(await RecommenderService.load(path.join(dir, 'missing'), { embedderId: embedder.id, dims: embedder.dims })).toEqual({
      unusable: expect.stringContaining('no recommender model'),
    });
  } finally {
    await embedder.close();
  }
});
