import type { Config } from '../config.ts';
import type { Embedder } from './embedder.ts';
import { TransformersEmbedder } from './transformers-embedder.ts';
import { UseLiteEmbedder } from './use-lite/use-lite-embedder.ts';

export function createEmbedder(config: Config['embedder']): Embedder {
  switch (config.kind) {
    case 'use-lite':
      return new UseLiteEmbedder();
    case 'transformers':
      return new TransformersEmbedder({ model: config.model, localModelPath: config.localModelPath });
  }
}
