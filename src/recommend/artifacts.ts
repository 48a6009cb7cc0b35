import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { tfRuntime } from '../embed/tf-runtime.ts';
import type { Interaction } from './interactions.ts';
import type { SequenceRecommender } from './sequence-recommender.ts';
import type { TwoTowerRecommender } from './two-tower.ts';

/**
 * A trained recommender on disk: each tower is a TF.js Layers model (`model.json` + `weights.bin`,
 * loadable on its own, in Node or a browser with `tf.loadLayersModel`), beside `metadata.json`
 * (version, dims, input schema, vocabulary sizes, training-data fingerprint, metrics).
 *
 *   <dir>/metadata.json
 *   <dir>/user_tower/model.json, weights.bin
 *   <dir>/item_tower/model.json, weights.bin
 *
 * Two kinds share the layout and the item tower: `two-tower-hybrid`, whose user tower reads a user
 * id, features and the pooled content of their history, and `sequence`, whose user tower reads the
 * item tower's vectors of the last `window` interactions in order (`sequence-tower.ts`).
 */
export const TOWERS = ['user_tower', 'item_tower'] as const;

export type RecommenderKind = 'two-tower-hybrid' | 'sequence';

export interface RecommenderMetadata {
  name: RecommenderKind;
  version: string;
  created_at: string;
  dataset: string;
  dims: number;
  /** `sequence`: the interactions its user tower reads, the latest last. */
  window?: number;
  inputs: Record<(typeof TOWERS)[number], Array<{ name: string; shape: number[]; dtype: string }>>;
  features: Record<string, unknown>;
  vocabulary: { users: number; items: number; unknown_index: 0 };
  data_fingerprint: string;
  training: unknown;
  options: unknown;
  metrics: Record<string, number>;
}

/** SHA-256 over the sorted interactions: the same data gives the same fingerprint. */
export function fingerprint(interactions: readonly Interaction[]): string {
  const h = createHash('sha256');
  for (const x of [...interactions].sort((a, b) => a.user - b.user || a.item - b.item || a.ts - b.ts)) h.update(`${x.user},${x.item},${x.ts}\n`);
  return `sha256:${h.digest('hex')}`;
}

export async function saveLayersModel(model: TF.LayersModel, dir: string): Promise<void> {
  const tf = await tfRuntime();
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData as ArrayBuffer;
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      await writeFile(path.join(dir, 'weights.bin'), Buffer.from(weights));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

export async function loadLayersModel(dir: string): Promise<TF.LayersModel> {
  const tf = await tfRuntime();
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  const weights = await readFile(path.join(dir, json.weightsManifest[0].paths[0]));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

export async function saveRecommender(
  dir: string,
  model: TwoTowerRecommender | SequenceRecommender,
  info: { dataset: string; interactions: readonly Interaction[]; metrics: object; features: Record<string, unknown>; vocab?: Vocab },
): Promise<RecommenderMetadata> {
  const towers = model.towers!;
  await saveLayersModel(towers.user, path.join(dir, 'user_tower'));
  await saveLayersModel(towers.item, path.join(dir, 'item_tower'));
  const describe = (m: TF.LayersModel) => m.inputs.map((i) => ({ name: i.name, shape: i.shape.map((d) => d ?? -1), dtype: i.dtype }));
  // Ids embedded by each tower (the sequence tower embeds none: it knows a user by their history).
  const idsOf = (m: TF.LayersModel, layer: string) => {
    const found = m.layers.find((l) => l.name === layer);
    return found ? (found.getConfig() as { inputDim: number }).inputDim - 1 : 0;
  };
  const sequence = model.name === 'sequence';
  const metadata: RecommenderMetadata = {
    name: sequence ? 'sequence' : 'two-tower-hybrid',
    version: `1.0.0+${new Date().toISOString().slice(0, 10)}`,
    created_at: new Date().toISOString(),
    dataset: info.dataset,
    dims: model.options.dims,
    ...(sequence && { window: model.options.window }),
    inputs: { user_tower: describe(towers.user), item_tower: describe(towers.item) },
    features: info.features,
    vocabulary: { users: idsOf(towers.user, 'user_embedding'), items: idsOf(towers.item, 'item_embedding'), unknown_index: 0 },
    data_fingerprint: fingerprint(info.interactions),
    training: model.report,
    options: model.options,
    metrics: info.metrics as Record<string, number>,
  };
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  // Index i + 1 of the id embeddings is vocab[i]; anything else is the unknown index 0.
  if (info.vocab) await writeFile(path.join(dir, 'vocab.json'), JSON.stringify(info.vocab));
  return metadata;
}

/** Ids of the users and items the model was trained on, in embedding order. */
export interface Vocab {
  users: string[];
  items: string[];
  /** Item groups (merchants), when the item tower has a group embedding. */
  merchants?: string[];
}

export async function loadRecommender(
  dir: string,
): Promise<{ user: TF.LayersModel; item: TF.LayersModel; metadata: RecommenderMetadata; vocab: Vocab | undefined }> {
  const [user, item, metadata, vocab] = await Promise.all([
    loadLayersModel(path.join(dir, 'user_tower')),
    loadLayersModel(path.join(dir, 'item_tower')),
    readFile(path.join(dir, 'metadata.json'), 'utf8').then((t) => JSON.parse(t) as RecommenderMetadata),
    readFile(path.join(dir, 'vocab.json'), 'utf8').then(
      (t) => JSON.parse(t) as Vocab,
      () => undefined,
    ),
  ]);
  return { user, item, metadata, vocab };
}
