import { describe, expect, it } from 'vitest';
import { dotAt } from '../../src/store/serving/ivf-index.ts';
import { blockRows, VectorArena } from '../../src/store/serving/vector-arena.ts';
import { seededRandom } from '../../src/util/random.ts';

function randomRows(n: number, dims: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n * dims }, () => rand() - 0.5);
}

describe('VectorArena (the SIMD kernel behind IVF search)', () => {
  it.each([1, 3, 4, 5, 8, 64, 100, 512])('scores every row as the scalar dot product does, at %i dimensions', (dims) => {
    const arena = new VectorArena(dims);
    const n = 300;
    const rows = randomRows(n, dims, dims);
    const at = arena.alloc(blockRows(n));
    for (let i = 0; i < n; i++) arena.write(at + i * arena.stride, rows, i * dims);
    const query = randomRows(1, dims, 1000 + dims);
    arena.setQuery(query);
    const scores = arena.scores(at, n);
    expect(scores.length).toBe(n);
    for (let i = 0; i < n; i++) expect(scores[i]).toBeCloseTo(dotAt(rows, i * dims, query, 0, dims), 5);
  });

  it('keeps every block intact while the memory grows, and reuses freed blocks of the same size', () => {
    const dims = 100;
    const arena = new VectorArena(dims);
    const blocks: Array<{ at: number; rows: Float32Array }> = [];
    for (let b = 0; b < 40; b++) {
      const rows = randomRows(64, dims, b);
      const at = arena.alloc(64);
      for (let i = 0; i < 64; i++) arena.write(at + i * arena.stride, rows, i * dims);
      blocks.push({ at, rows });
    }
    expect(arena.bytes).toBeGreaterThan(65_536); // it grew
    const query = randomRows(1, dims, 7);
    arena.setQuery(query);
    for (const { at, rows } of blocks) {
      const scores = arena.scores(at, 64);
      for (let i = 0; i < 64; i += 9) expect(scores[i]).toBeCloseTo(dotAt(rows, i * dims, query, 0, dims), 5);
    }
    arena.free(blocks[3]!.at, 64);
    expect(arena.alloc(64)).toBe(blocks[3]!.at);
    expect(arena.alloc(128)).not.toBe(blocks[3]!.at);
  });

  it('sizes blocks in powers of two from 16 rows', () => {
    expect([0, 1, 16, 17, 1000].map(blockRows)).toEqual([16, 16, 16, 32, 1024]);
  });
});
