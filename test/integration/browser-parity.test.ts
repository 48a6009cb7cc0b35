/**
 * The browser path is real: the saved towers (the two-tower model's, and the sequence-aware user
 * tower) load with `tf.loadLayersModel` in headless Chromium (Debian's chromium + playwright-core)
 * and score as Node does, to 1e-4.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { tfRuntime } from '../../src/embed/tf-runtime.ts';
import { saveLayersModel, saveRecommender } from '../../src/recommend/artifacts.ts';
import { buildSequenceTower, contextDims, encodeWindow, type HistoryStep } from '../../src/recommend/sequence-tower.ts';
import { seededRandom } from '../../src/util/random.ts';
import { historyMeans } from '../../src/recommend/two-tower.ts';
import { trainToy } from '../support/recommender.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { tempDir } from '../support/tmp.ts';

function serve(root: string, tfBundle: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x').pathname;
    const file = url === '/tf.min.js' ? tfBundle : url === '/' ? null : path.join(root, path.normalize(url));
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>parity</title><script src="/tf.min.js"></script>');
      return;
    }
    if (!file || (!file.startsWith(root) && file !== tfBundle) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' })
      .end(readFileSync(file));
  });
  server.listen(0, '127.0.0.1');
  return new Promise((r) => server.once('listening', () => r(server)));
}

it.skipIf(!existsSync(CHROMIUM))(`browser scores equal Node's to 1e-4 (needs ${CHROMIUM}; .ci/run installs Debian's chromium)`, async () => {
  const tf = await tfRuntime();
  const { world, model } = await trainToy();
  const { dir, cleanup } = await tempDir('parity-');
  const tfBundle = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json')), 'dist/tf.min.js');
  const server = await serve(dir, tfBundle);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    await saveRecommender(dir, model, { dataset: 'toy', interactions: world.interactions, metrics: {}, features: {} });
    const history = historyMeans(world.interactions, world.numUsers, world.itemContent);
    const users = [0, 5, 17],
      items = [0, 9, 33, 79];
    const inputs = {
      userIds: users.map((u) => u + 1),
      userFeatures: users.map((u) => Array.from(world.userFeatures[u]!)),
      userHistory: users.map((u) => Array.from(history[u]!)),
      itemIds: items.map((i) => (i === 79 ? 0 : i + 1)), // one item through the cold (content-only) path
      itemContent: items.map((i) => Array.from(world.itemContent[i]!)),
    };
    // Node: user × item scores.
    const uv = (await (
      model.towers!.user.predict([tf.tensor2d(inputs.userIds, [3, 1], 'int32'), tf.tensor2d(inputs.userFeatures), tf.tensor2d(inputs.userHistory)]) as Tensor
    ).array()) as number[][];
    const iv = (await (
      model.towers!.item.predict([tf.tensor2d(inputs.itemIds, [4, 1], 'int32'), tf.tensor2d(inputs.itemContent)]) as Tensor
    ).array()) as number[][];
    const nodeScores = uv.map((u) => iv.map((v) => 1 / (1 + Math.exp(-u.reduce((s, x, k) => s + x * v[k]!, 0)))));

    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    const browserScores = await page.evaluate(async (inp) => {
      const tfb = (globalThis as unknown as { tf: typeof import('@tensorflow/tfjs') }).tf;
      const user = await tfb.loadLayersModel('/user_tower/model.json');
      const item = await tfb.loadLayersModel('/item_tower/model.json');
      const u = (await (
        user.predict([tfb.tensor2d(inp.userIds, [inp.userIds.length, 1], 'int32'), tfb.tensor2d(inp.userFeatures), tfb.tensor2d(inp.userHistory)]) as Tensor
      ).array()) as number[][];
      const v = (await (
        item.predict([tfb.tensor2d(inp.itemIds, [inp.itemIds.length, 1], 'int32'), tfb.tensor2d(inp.itemContent)]) as Tensor
      ).array()) as number[][];
      return { backend: tfb.getBackend(), scores: u.map((a) => v.map((b) => 1 / (1 + Math.exp(-a.reduce((s, x, k) => s + x * b[k]!, 0))))) };
    }, inputs);
    expect(browserScores.scores).toHaveLength(3);
    browserScores.scores.forEach((row, i) => row.forEach((s, j) => expect(Math.abs(s - nodeScores[i]![j]!)).toBeLessThanOrEqual(1e-4)));
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
    await cleanup();
  }
});

it.skipIf(!existsSync(CHROMIUM))(
  `the sequence-aware user tower exports to model.json + weights.bin and scores in Chromium as in Node to 1e-4 (needs ${CHROMIUM})`,
  async () => {
    const tf = await tfRuntime();
    const window = 8,
      dims = 16;
    const { user } = buildSequenceTower(tf, { window, dims, userFeatureDims: 1 }, { hidden: 16, blocks: 2, seed: 9 });
    const { dir, cleanup } = await tempDir('parity-sequence-');
    const tfBundle = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json')), 'dist/tf.min.js');
    const server = await serve(dir, tfBundle);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      await saveLayersModel(user, path.join(dir, 'sequence_user_tower'));
      // Three users: a full window, a short history (left-padded, masked) and a single click.
      const random = seededRandom(4);
      const histories: HistoryStep[][] = [
        Array.from({ length: 11 }, (_, k) => ({ kind: (['click', 'impression', 'save', 'redeem'] as const)[k % 4]!, gapDays: k ? random() * 5 : 0 })),
        [
          { kind: 'click', gapDays: 0 },
          { kind: 'save', gapDays: 0.01 },
          { kind: 'redeem', gapDays: 2 },
        ],
        [{ kind: 'click', gapDays: 0 }],
      ];
      const c = contextDims(window);
      const context = new Float32Array(histories.length * window * c);
      const mask = new Float32Array(histories.length * window * window);
      histories.forEach((h, u) => encodeWindow(h, window, context, mask, u * window));
      const inputs = {
        vectors: Array.from({ length: histories.length * window * dims }, () => random() * 2 - 1),
        context: Array.from(context),
        mask: Array.from(mask),
        features: Array.from({ length: histories.length * window }, () => 1),
        shapes: { users: histories.length, window, dims, c },
      };
      const tensors = (t: typeof tf, i: typeof inputs) => [
        t.tensor3d(i.vectors, [i.shapes.users, i.shapes.window, i.shapes.dims]),
        t.tensor3d(i.context, [i.shapes.users, i.shapes.window, i.shapes.c]),
        t.tensor3d(i.mask, [i.shapes.users, i.shapes.window, i.shapes.window]),
        t.tensor3d(i.features, [i.shapes.users, i.shapes.window, 1]),
      ];
      const nodeVectors = (await (user.predict(tensors(tf, inputs)) as Tensor).array()) as number[][];
      const page = await browser.newPage();
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      const browserVectors = await page.evaluate(async (i) => {
        const tfb = (globalThis as unknown as { tf: typeof import('@tensorflow/tfjs') }).tf;
        const model = await tfb.loadLayersModel('/sequence_user_tower/model.json');
        const { users, window, dims, c } = i.shapes;
        const input = [
          tfb.tensor3d(i.vectors, [users, window, dims]),
          tfb.tensor3d(i.context, [users, window, c]),
          tfb.tensor3d(i.mask, [users, window, window]),
          tfb.tensor3d(i.features, [users, window, 1]),
        ];
        return (await (model.predict(input) as Tensor).array()) as number[][];
      }, inputs);
      expect(browserVectors).toHaveLength(3);
      expect(nodeVectors[0]).toHaveLength(dims);
      browserVectors.forEach((row, u) => row.forEach((x, k) => expect(Math.abs(x - nodeVectors[u]![k]!)).toBeLessThanOrEqual(1e-4)));
      // The three histories give three different users.
      expect(Math.abs(nodeVectors[0]![0]! - nodeVectors[2]![0]!)).toBeGreaterThan(1e-6);
    } finally {
      await browser.close();
      await new Promise((r) => server.close(r));
      await cleanup();
    }
  },
);
