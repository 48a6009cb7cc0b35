import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadLayersModel, saveLayersModel } from '../recommend/artifacts.ts';
import { learnedFeatures, RANKING_FEATURES, RANKING_FEATURES_VERSION, type Normalisation } from './features.ts';
import { LearnedRanker } from './ranker.ts';

/**
 * A trained ranker on disk: `model.json` + `weights.bin` (TF.js Layers, loadable in a browser too),
 * `metadata.json` (feature schema and version, normalisation, training data, metrics) and
 * `idf.json` (the term statistics the IDF features were computed with).
 */
export interface RankerMetadata {
  name: 'listwise-mlp-ranker';
  version: string;
  created_at: string;
  features: { version: number; names: readonly string[] };
  normalisation: Normalisation;
  /** The features that varied in training (the others are fed to the model as 0). */
  learned_features: string[];
  /** Trained on lists without query text too (feeds, similar coupons): it may rank those. */
  queryless?: boolean;
  training: unknown;
  metrics: Record<string, unknown>;
}

export async function saveRanker(
  dir: string,
  ranker: LearnedRanker,
  info: { training: unknown; metrics: Record<string, unknown>; idf: Record<string, number>; queryless?: boolean },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveLayersModel(ranker.model!, dir);
  const metadata: RankerMetadata = {
    name: 'listwise-mlp-ranker',
    version: `1.0.0+${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`,
    created_at: new Date().toISOString(),
    features: { version: RANKING_FEATURES_VERSION, names: RANKING_FEATURES },
    normalisation: ranker.normalisation!,
    learned_features: learnedFeatures(ranker.normalisation!),
    queryless: info.queryless ?? false,
    training: { ...(info.training as object), history: ranker.history, options: ranker.options },
    metrics: info.metrics,
  };
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  await writeFile(path.join(dir, 'idf.json'), JSON.stringify(info.idf));
}

export async function loadRanker(dir: string): Promise<{ ranker: LearnedRanker; metadata: RankerMetadata; idf: Map<string, number> }> {
  const metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as RankerMetadata;
  if (metadata.features.version !== RANKING_FEATURES_VERSION || metadata.features.names.join() !== RANKING_FEATURES.join()) {
    throw new Error(
      `${dir}: trained on ranking features v${metadata.features.version}, the engine computes v${RANKING_FEATURES_VERSION}: retrain with npm run eval:ranking -- --save or npm run train:ranker`,
    );
  }
  const ranker = new LearnedRanker();
  ranker.model = await loadLayersModel(dir);
  ranker.normalisation = metadata.normalisation;
  await ranker.ready();
  const idf = new Map(Object.entries(JSON.parse(await readFile(path.join(dir, 'idf.json'), 'utf8')) as Record<string, number>));
  return { ranker, metadata, idf };
}
