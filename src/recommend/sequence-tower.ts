import type * as TF from '@tensorflow/tfjs';
import { EVENT_TYPES, type EventType } from '../domain/event.ts';

/**
 * The sequence-aware user tower: a small causal self-attention encoder (SASRec, Kang & McAuley
 * 2018) over the item tower's vectors of the user's last `window` interactions, each with its kind
 * (impression, click, save, redeem, dismiss), the time since the interaction before it and its position.
 * It is built from standard TF.js layers only, so `model.json` + `weights.bin` load with
 * `tf.loadLayersModel` in Node and in a browser with no custom code.
 *
 * Two models share the layers: `user` (serving) reads the vector at the latest position; `trainer`
 * returns every position's vector, so one forward pass trains on every next-item target of a
 * window. The attention mask keeps each position from seeing later ones (causal) or padding.
 */

export interface SequenceTowerSpec {
  /** Interactions read, the latest last; shorter histories are padded on the left. */
  window: number;
  /** The item tower's output size (and this tower's). */
  dims: number;
  userFeatureDims: number;
}

export interface SequenceTowerOptions {
  /** Width of the attention blocks. @defaultValue 64 */
  hidden?: number;
  /** Self-attention blocks. @defaultValue 2 */
  blocks?: number;
  /** @defaultValue 0.2 */
  dropout?: number;
  /** @defaultValue 42 */
  seed?: number;
}

/** One step of a user's history as the tower reads it. */
export interface HistoryStep {
  kind: EventType;
  /** Days since the user's interaction before this one (0 for the first). */
  gapDays: number;
}

/** Per-step context features: kind one-hot, log gap, a "real step" flag, position one-hot. */
export function contextDims(window: number): number {
  return EVENT_TYPES.length + 2 + window;
}

const MASKED = -1e9;

/**
 * The context rows and attention mask of one window (`steps` oldest first, at most `window`),
 * right-aligned so the latest step is always at position `window − 1`.
 */
export function encodeWindow(steps: readonly HistoryStep[], window: number, context: Float32Array, mask: Float32Array, offsetRows = 0): void {
  const c = contextDims(window);
  const n = Math.min(steps.length, window);
  const first = window - n;
  const ctx = context.subarray(offsetRows * c, (offsetRows + window) * c);
  const m = mask.subarray(offsetRows * window, (offsetRows + window) * window);
  ctx.fill(0);
  for (let p = 0; p < window; p++) {
    const row = p * c;
    ctx[row + EVENT_TYPES.length + 2 + p] = 1;
    if (p >= first) {
      const step = steps[steps.length - n + (p - first)]!;
      ctx[row + EVENT_TYPES.indexOf(step.kind)] = 1;
      ctx[row + EVENT_TYPES.length] = Math.log1p(Math.max(0, step.gapDays)) / 4;
      ctx[row + EVENT_TYPES.length + 1] = 1;
    }
    // Position p attends to real steps at or before it.
    for (let s = 0; s < window; s++) m[p * window + s] = s >= first && s <= p ? 0 : MASKED;
  }
}

export interface SequenceTowers {
  /** Serving: the user vector at the latest position. */
  user: TF.LayersModel;
  /** Training: a vector at every position, [window, dims]. */
  trainer: TF.LayersModel;
}

export function buildSequenceTower(tf: typeof TF, spec: SequenceTowerSpec, options: SequenceTowerOptions = {}): SequenceTowers {
  const o = { hidden: 64, blocks: 2, dropout: 0.2, seed: 42, ...options };
  const n = spec.window;
  let layerSeed = o.seed;
  const dense = (units: number, name: string, activation: 'relu' | 'linear' = 'linear') =>
    tf.layers.dense({ units, activation, name, kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }) });
  const apply = (layer: TF.layers.Layer, x: TF.SymbolicTensor | TF.SymbolicTensor[]) => layer.apply(x) as TF.SymbolicTensor;

  const vectors = tf.input({ shape: [n, spec.dims], name: 'history_vectors' });
  const context = tf.input({ shape: [n, contextDims(n)], name: 'history_context' });
  const mask = tf.input({ shape: [n, n], name: 'attention_mask' });
  // The user's features at every step (the caller repeats them): RepeatVector's gradient slices in JavaScript.
  const userFeatures = tf.input({ shape: [n, spec.userFeatureDims], name: 'user_features' });

  // Sums of dense layers rather than a dense over a concatenation: the same function, and no slice
  // in the gradient (the wasm backend slices inner axes in JavaScript, which dominated training).
  let x = apply(tf.layers.add({ name: 'step_embedding' }), [apply(dense(o.hidden, 'step_item'), vectors), apply(dense(o.hidden, 'step_context'), context)]);
  x = apply(tf.layers.dropout({ rate: o.dropout, seed: o.seed, name: 'step_dropout' }), x);
  for (let b = 0; b < o.blocks; b++) {
    const q = apply(dense(o.hidden, `block${b}_query`), x);
    const k = apply(dense(o.hidden, `block${b}_key`), x);
    const v = apply(dense(o.hidden, `block${b}_value`), x);
    const scores = apply(
      tf.layers.rescaling({ scale: 1 / Math.sqrt(o.hidden), name: `block${b}_scale` }),
      apply(tf.layers.dot({ axes: 2, name: `block${b}_scores` }), [q, k]),
    );
    const weights = apply(tf.layers.softmax({ axis: -1, name: `block${b}_attention` }), apply(tf.layers.add({ name: `block${b}_masked` }), [scores, mask]));
    let attended = apply(tf.layers.dot({ axes: [2, 1], name: `block${b}_attend` }), [weights, v]);
    attended = apply(tf.layers.dropout({ rate: o.dropout, seed: o.seed + b + 1, name: `block${b}_attend_dropout` }), attended);
    // No layer normalisation: TF.js's tiles its scale and offset, and that gradient slices in JavaScript.
    x = apply(tf.layers.add({ name: `block${b}_residual1` }), [x, attended]);
    let ff = apply(dense(o.hidden, `block${b}_ff_out`), apply(dense(o.hidden * 2, `block${b}_ff_in`, 'relu'), x));
    ff = apply(tf.layers.dropout({ rate: o.dropout, seed: o.seed + b + 11, name: `block${b}_ff_dropout` }), ff);
    x = apply(tf.layers.add({ name: `block${b}_residual2` }), [x, ff]);
  }
  const user = apply(dense(16, 'user_features_dense', 'relu'), userFeatures);
  const perStep = apply(tf.layers.add({ name: 'user_vector' }), [
    apply(dense(spec.dims, 'user_from_history'), x),
    apply(dense(spec.dims, 'user_from_features'), user),
  ]);
  // The latest position: crop the others away (standard layers only, for portable export).
  const latest = apply(
    tf.layers.flatten({ name: 'latest_vector' }),
    apply(
      tf.layers.cropping2D({
        cropping: [
          [n - 1, 0],
          [0, 0],
        ],
        name: 'latest_step',
      }),
      apply(tf.layers.reshape({ targetShape: [n, spec.dims, 1], name: 'steps_as_image' }), perStep),
    ),
  );
  const inputs = [vectors, context, mask, userFeatures];
  return {
    user: tf.model({ inputs, outputs: latest, name: 'sequence_user_tower' }),
    trainer: tf.model({ inputs, outputs: perStep, name: 'sequence_user_tower_trainer' }),
  };
}
