/**
 * The sequence-aware user tower: windows are right-aligned with a causal mask, so no position reads
 * a later step or padding; the serving model is the trainer's latest position; and the exported
 * `model.json` + weights load back with `tf.loadLayersModel` (standard layers only) to the same scores.
 */
import type * as TF from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tfRuntime } from '../../src/embed/tf-runtime.ts';
import { buildSequenceTower, contextDims, encodeWindow, type HistoryStep } from '../../src/recommend/sequence-tower.ts';
import { seededRandom } from '../../src/util/random.ts';

const N = 6,
  DIMS = 8,
  FEATURES = 3;

function inputs(tf: typeof TF, steps: HistoryStep[], vectors: Float32Array) {
  const ctx = new Float32Array(N * contextDims(N)),
    mask = new Float32Array(N * N);
  encodeWindow(steps, N, ctx, mask);
  return [
    tf.tensor3d(vectors, [1, N, DIMS]),
    tf.tensor3d(ctx, [1, N, contextDims(N)]),
    tf.tensor3d(mask, [1, N, N]),
    tf.tensor3d(new Float32Array(N * FEATURES).fill(1), [1, N, FEATURES]),
  ];
}

describe('sequence tower', () => {
  it('masks later steps and padding: the window is right-aligned', () => {
    const steps: HistoryStep[] = [
      { kind: 'click', gapDays: 0 },
      { kind: 'redeem', gapDays: 2 },
    ];
    const ctx = new Float32Array(N * contextDims(N)),
      mask = new Float32Array(N * N);
    encodeWindow(steps, N, ctx, mask);
    const allowed = (p: number) => Array.from(mask.subarray(p * N, (p + 1) * N), (m) => m === 0);
    expect(allowed(N - 1)).toEqual([false, false, false, false, true, true]);
    expect(allowed(N - 2)).toEqual([false, false, false, false, true, false]);
    // The latest step is a redeem at the last position.
    expect(ctx[(N - 1) * contextDims(N) + 3]).toBe(1);
  });

  it('is causal, serves the latest position, and round-trips through model.json', async () => {
    const tf = await tfRuntime();
    const { user, trainer } = buildSequenceTower(tf, { window: N, dims: DIMS, userFeatureDims: FEATURES }, { hidden: 8, blocks: 1, seed: 5 });
    const rand = seededRandom(9);
    const vectors = Float32Array.from({ length: N * DIMS }, () => rand() - 0.5);
    const steps: HistoryStep[] = Array.from({ length: N }, (_, k) => ({ kind: 'click', gapDays: k }));
    const all = (await (trainer.predict(inputs(tf, steps, vectors)) as TF.Tensor).data()) as Float32Array;
    // Change the latest step only: every earlier position's vector stays the same.
    const changed = Float32Array.from(vectors);
    for (let k = (N - 1) * DIMS; k < N * DIMS; k++) changed[k] = changed[k]! + 1;
    const after = (await (trainer.predict(inputs(tf, steps, changed)) as TF.Tensor).data()) as Float32Array;
    for (let k = 0; k < (N - 1) * DIMS; k++) expect(after[k]).toBeCloseTo(all[k]!, 5);
    expect(Math.max(...Array.from({ length: DIMS }, (_, k) => Math.abs(after[(N - 1) * DIMS + k]! - all[(N - 1) * DIMS + k]!)))).toBeGreaterThan(1e-4);

    const latest = (await (user.predict(inputs(tf, steps, vectors)) as TF.Tensor).data()) as Float32Array;
    for (let k = 0; k < DIMS; k++) expect(latest[k]).toBeCloseTo(all[(N - 1) * DIMS + k]!, 5);

    let saved: TF.io.ModelArtifacts | undefined;
    await user.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const again = (await (loaded.predict(inputs(tf, steps, vectors)) as TF.Tensor).data()) as Float32Array;
    for (let k = 0; k < DIMS; k++) expect(again[k]).toBeCloseTo(latest[k]!, 6);
  });
});
