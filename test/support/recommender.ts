import type { Interaction } from '../../src/recommend/interactions.ts';
import { TwoTowerRecommender } from '../../src/recommend/two-tower.ts';
import { seededRandom } from '../../src/util/random.ts';

/** A small seeded world: users prefer one of four item groups; content says which group an item is in. */
export function toyWorld(numUsers = 60, numItems = 80, seed = 5) {
  const rand = seededRandom(seed);
  const group = (i: number) => i % 4;
  const itemContent = Array.from({ length: numItems }, (_, i) => Float32Array.from({ length: 8 }, (_, k) => (k === group(i) ? 1 : 0) + (rand() - 0.5) * 0.1));
  const userFeatures = Array.from({ length: numUsers }, (_, u) => Float32Array.from({ length: 4 }, (_, k) => (k === u % 4 ? 1 : 0)));
  const interactions: Interaction[] = [];
  for (let u = 0; u < numUsers; u++) {
    for (let n = 0; n < 12; n++) {
      const candidates = Array.from({ length: numItems }, (_, i) => i).filter((i) => group(i) === u % 4);
      interactions.push({ user: u, item: candidates[Math.floor(rand() * candidates.length)]!, ts: n });
    }
  }
  return { numUsers, numItems, itemContent, userFeatures, interactions };
}

export async function trainToy(epochs = 2) {
  const world = toyWorld();
  const model = new TwoTowerRecommender({ itemContent: world.itemContent, userFeatures: world.userFeatures }, undefined, {
    maxEpochs: epochs,
    progress: false,
    batchSize: 256,
    dims: 16,
    idDims: 8,
    hidden: 16,
  });
  await model.fit(world.interactions, world.numUsers, world.numItems);
  return { world, model };
}
