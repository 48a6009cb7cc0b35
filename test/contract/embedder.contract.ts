import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dot, type Embedder } from '../../src/embed/embedder.ts';

/** What every embedder adapter must do, whatever model is behind it. */
export function describeEmbedder(name: string, factory: () => Embedder, options: { skip?: string } = {}): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`Embedder contract: ${name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let embedder: Embedder;
    beforeAll(async () => {
      embedder = factory();
      await embedder.ready();
    });
    afterAll(async () => embedder?.close());

    it('returns one unit-length vector of `dims` per text, in order', async () => {
      const texts = ['pizza for two', 'oil change', 'yoga classes'];
      const vectors = await embedder.embed(texts);
      expect(vectors).toHaveLength(3);
      for (const v of vectors) {
        expect(v.length).toBe(embedder.dims);
        expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 4);
      }
      expect(await embedder.embed([])).toEqual([]);
    });

    it('is deterministic and batch-independent', async () => {
      const [alone] = await embedder.embed(['large pepperoni pizza']);
      const [, inBatch] = await embedder.embed(['a much longer sentence about something else entirely', 'large pepperoni pizza']);
      for (let i = 0; i < alone!.length; i++) expect(inBatch![i]).toBeCloseTo(alone![i]!, 4);
    });

    it('survives empty, odd and very long input', async () => {
      const vectors = await embedder.embed(['', '🍕🍕 ¿qué? \u0000 <script>', 'word '.repeat(2000)]);
      for (const v of vectors) expect(v.every(Number.isFinite)).toBe(true);
    });

    it('puts related texts closer than unrelated ones', async () => {
      const [pizza, pizza2, oil] = await embedder.embed(['cheap food', 'food prices', 'oil change']);
      expect(dot(pizza!, pizza2!)).toBeGreaterThan(dot(pizza!, oil!));
    });
  });
}
