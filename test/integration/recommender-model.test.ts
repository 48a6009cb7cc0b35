/** The hybrid recommender's artifacts round-trip: saved towers load on their own and score identically. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { tfRuntime } from '../../src/embed/tf-runtime.ts';
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
