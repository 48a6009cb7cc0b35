import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/util/lru.ts';
import { MicroBatcher } from '../../src/util/micro-batcher.ts';

describe('MicroBatcher', () => {
  it('merges concurrent callers into one call and hands each its own results', async () => {
    const calls: number[][] = [];
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 100,
      maxWaitMs: 5,
      run: async (xs) => {
        calls.push(xs);
        return xs.map((x) => x * 10);
      },
    });
    const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])]);
    expect(results).toEqual([[10, 20], [30], [40, 50, 60]]);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('flushes at maxBatch without waiting, and rejects every caller of a failed batch', async () => {
    let n = 0;
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 60_000,
      run: async (xs) => {
        if (++n === 2) throw new Error('boom');
        return xs;
      },
    });
    expect(await Promise.all([batcher.submit([1]), batcher.submit([2])])).toEqual([[1], [2]]);
    const failed = await Promise.allSettled([batcher.submit([3]), batcher.submit([4])]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });
});

describe('MicroBatcher group commit', () => {
  it('sends what arrived while a batch ran as one next batch, capped at maxBatch', async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 1,
      run: async (xs) => {
        calls.push(xs);
        if (calls.length === 1) await gate;
        return xs;
      },
    });
    const first = batcher.submit([0]);
    await new Promise((r) => setTimeout(r, 10)); // the first batch is running
    const later = [1, 2, 3, 4, 5, 6].map((x) => batcher.submit([x]));
    await new Promise((r) => setTimeout(r, 10)); // the waiting items' timer has long passed
    expect(calls).toEqual([[0]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([[0], [1], [2], [3], [4], [5], [6]]);
    expect(calls).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
  });
});
