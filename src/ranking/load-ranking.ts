import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { Featurizer, Scorer } from '../search/context.ts';
import { fusedScorer } from '../search/stages/rank.ts';
import { loadRanker } from './artifacts.ts';
import { idfLookup } from './features.ts';
import { RankingFeaturizer } from './featurizer.ts';
import { LearnedScorer } from './learned-scorer.ts';

/** What the rank stage runs with: the scorer, the featurizer (IDF of the model), and why. */
export interface Ranking {
  scorer: Scorer;
  features: Featurizer;
  detail: string;
}

/** The learned ranker when one loads from `dir`; otherwise the fused order, with the reason. */
export async function loadRanking(dir: string | undefined, logger: Logger): Promise<Ranking> {
  const fused = (detail: string): Ranking => ({ scorer: fusedScorer, features: RankingFeaturizer.uniform(), detail });
  if (!dir) return fused('ranking turned off: fused order');
  if (!existsSync(path.join(dir, 'metadata.json')))
    return fused(`no ranker model in ${dir}: fused order (npm run eval:ranking -- --save ${dir}, or npm run train:ranker)`);
  try {
    const { ranker, metadata, idf } = await loadRanker(dir);
    return {
      scorer: new LearnedScorer(ranker, metadata.version, metadata.queryless ?? false),
      features: new RankingFeaturizer(idfLookup(idf), `ranker ${metadata.version}`),
      detail: `${metadata.name} ${metadata.version} (features v${metadata.features.version})`,
    };
  } catch (error) {
    logger.error({ err: error, dir }, 'the ranker failed to load: search uses the fused order');
    return fused(`ranker in ${dir} failed to load (${(error as Error).message}): fused order`);
  }
}
