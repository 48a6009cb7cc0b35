import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dot } from '../../src/embed/embedder.ts';
import { EmbedderPool } from '../../src/embed/embedder-pool.ts';
import { EmbeddingService } from '../../src/embed/embedding-service.ts';
import { TransformersEmbedder } from '../../src/embed/transformers-embedder.ts';
import { BridgedQueryEmbedder, loadQueryBridge } from '../../src/embed/query-bridge.ts';
import { StaticVectorEmbedder } from '../../src/embed/static-vectors/static-vector-embedder.ts';
import { UseLiteEmbedder } from '../../src/embed/use-lite/use-lite-embedder.ts';
import { describeEmbedder } from '../contract/embedder.contract.ts';
import { SHARED_DIR } from '../support/tmp.ts';

const TINY = path.join(SHARED_DIR, 'models');
const tinyMissing = existsSync(path.join(TINY, 'tiny-word-vectors/onnx/model.onnx')) ? undefined : `${TINY}/tiny-word-vectors not found (../shared is absent)`;

const STATIC_CACHE = path.resolve(import.meta.dirname, '../../.cache/static-vectors');

describeEmbedder('static GloVe vectors, SIF-weighted (the default)', () => new StaticVectorEmbedder({ cacheDir: STATIC_CACHE }));
describeEmbedder('Universal Sentence Encoder Lite', () => new UseLiteEmbedder());
describeEmbedder('queries through USE-lite and the shipped query bridge', () => bridgedQueries());
describeEmbedder('USE-lite in a pool of two worker threads', () => new EmbedderPool({ kind: 'use-lite' }, 2, 'use-lite@1', 512));
describeEmbedder(
  'transformers.js on ../shared/models/tiny-word-vectors',
  () => new TransformersEmbedder({ model: 'tiny-word-vectors', localModelPath: TINY }),
  {
    ...(tinyMissing && { skip: tinyMissing }),
  },
);

describe('USE-lite understands paraphrase that shares no words', () => {
  it('matches a query to the offer that means the same', async () => {
    const e = new UseLiteEmbedder();
    const [query, oil, pizza, haircut] = await e.embed([
      'car service',
      'Full synthetic oil change, $20 off',
      'Large pepperoni pizza, 50% off',
      "Men's haircut and beard trim",
    ]);
    expect(dot(query!, oil!)).toBeGreaterThan(dot(query!, pizza!));
    expect(dot(query!, oil!)).toBeGreaterThan(dot(query!, haircut!));
  });
});

describe('transformers.js offline', () => {
  it.skipIf(Boolean(tinyMissing))('fails fast, naming the model, when a local model is missing', async () => {
    const e = new TransformersEmbedder({ model: 'no-such-model', localModelPath: TINY });
    await expect(e.ready()).rejects.toThrow(/no-such-model/);
  });
});

describe('EmbeddingService', () => {
  it('caches query vectors and batches concurrent documents into shared model calls', async () => {
    const inner = new UseLiteEmbedder();
    const calls: number[] = [];
    const counting = {
      ...inner,
      id: inner.id,
      dims: inner.dims,
      ready: () => inner.ready(),
      close: () => inner.close(),
      embed: (t: readonly string[]) => {
        calls.push(t.length);
        return inner.embed(t);
      },
    };
    const service = new EmbeddingService(counting, { batchSize: 64 });
    const a = await service.embedQuery('pizza  tonight');
    const b = await service.embedQuery(' pizza tonight ');
    expect(b).toBe(a);
    expect(calls).toEqual([1]);
    const docs = Array.from({ length: 20 }, (_, i) => `coupon ${i}`);
    const out = await Promise.all(docs.map((d) => service.embedDocuments([d])));
    expect(out.flat()).toHaveLength(20);
    expect(calls.slice(1)).toEqual([20]);
  });
});

/** The port's factory is synchronous; the bridge loads in ready(). */
function bridgedQueries() {
  const documents = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE });
  let inner: BridgedQueryEmbedder | undefined;
  return {
    id: 'bridged',
    get dims() {
      return documents.dims;
    },
    async ready() {
      const loaded = await loadQueryBridge(path.resolve(import.meta.dirname, '../../models/query-bridge'));
      if (!loaded) throw new Error('models/query-bridge is missing: npm run train:embedder -- --bridge');
      inner = new BridgedQueryEmbedder(documents, new UseLiteEmbedder(), loaded.bridge, 1);
      await inner.ready();
    },
    embed: (texts: readonly string[]) => inner!.embed(texts),
    close: async () => inner?.close(),
  };
}

describe('the static embedder', () => {
  it('embeds without a model call: the same text gives the same vector, unknown words count for nothing', async () => {
    const e = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE });
    await e.ready();
    expect(e.id).toBe('glove-sif-100d@1');
    const [a, b, c] = await e.embed(['Large pepperoni pizza', 'large PEPPERONI pizza!!', 'large pepperoni pizza qzxqzxq']);
    expect(dot(a!, b!)).toBeCloseTo(1, 5);
    expect(dot(a!, c!)).toBeCloseTo(1, 5);
  });

  it('ranks product text by meaning beyond shared words', async () => {
    const e = new StaticVectorEmbedder({ cacheDir: STATIC_CACHE });
    await e.ready();
    const [query, sofa, drill] = await e.embed(['couch', 'Three-seat fabric sofa with cushions', 'Cordless power drill with two batteries']);
    expect(dot(query!, sofa!)).toBeGreaterThan(dot(query!, drill!) + 0.1);
  });
});
