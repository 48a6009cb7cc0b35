import { describe, expect, it } from 'vitest';
import { dot, l2normalize } from '../../src/embed/embedder.ts';
import { BridgedQueryEmbedder, bridgeVector, fitQueryBridge, loadQueryBridge, saveQueryBridge } from '../../src/embed/query-bridge.ts';
import { seededRandom } from '../../src/util/random.ts';
import { tempDir } from '../support/tmp.ts';

const spaces = { source: 'sentences@1', target: 'words@1' };

function randomVectors(rand: () => number, n: number, dims: number): Float32Array[] {
  return Array.from({ length: n }, () => l2normalize(Float32Array.from({ length: dims }, () => rand() - 0.5)));
}

describe('the query bridge', () => {
  it('recovers a linear map between two spaces by ridge regression', () => {
    const rand = seededRandom(3);
    const [inDims, outDims] = [12, 5];
    const truth = Float32Array.from({ length: inDims * outDims }, () => rand() - 0.5);
    const sources = randomVectors(rand, 400, inDims);
    const targets = sources.map((x) => {
      const y = new Float32Array(outDims);
      for (let i = 0; i < inDims; i++) for (let j = 0; j < outDims; j++) y[j]! += x[i]! * truth[i * outDims + j]!;
      return y;
    });
    const bridge = fitQueryBridge(sources, targets, spaces, 1e-6);
    for (let k = 0; k < truth.length; k++) expect(bridge.matrix[k]).toBeCloseTo(truth[k]!, 3);
    // Mapped vectors point where the targets do.
    for (let n = 0; n < 5; n++) expect(dot(bridgeVector(bridge, sources[n]!), l2normalize(Float32Array.from(targets[n]!)))).toBeCloseTo(1, 4);
  });

  it('round-trips through model.json + weights.bin and refuses spaces it was not fitted for', async () => {
    const rand = seededRandom(5);
    const bridge = fitQueryBridge(randomVectors(rand, 50, 6), randomVectors(rand, 50, 4), spaces);
    const { dir, cleanup } = await tempDir('bridge-');
    try {
      await saveQueryBridge(dir, bridge, { name: 'query-bridge', created_at: '', ...spaces, dims: { in: 6, out: 4 }, ridge: 0.1, fit: {} });
      const loaded = (await loadQueryBridge(dir))!;
      expect([...loaded.bridge.matrix]).toEqual([...bridge.matrix]);
      expect(await loadQueryBridge(`${dir}/nothing-here`)).toBeUndefined();
      const embedder = (id: string, dims: number) => ({ id, dims, ready: async () => {}, embed: async () => [], close: async () => {} });
      const mismatched = new BridgedQueryEmbedder(embedder('words@2', 4), embedder('sentences@1', 6), loaded.bridge, 1);
      await expect(mismatched.ready()).rejects.toThrow(/sentences@1 → words@1.*words@2.*train:embedder -- --bridge/);
    } finally {
      await cleanup();
    }
  });
});
