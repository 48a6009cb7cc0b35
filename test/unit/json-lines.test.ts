import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateJsonLines, iterateJsonLinesBackwards } from '../../src/util/json-lines.ts';
import { seededRandom } from '../../src/util/random.ts';

const dir = await mkdtemp(path.join(os.tmpdir(), 'json-lines-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const collect = async <T>(records: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const r of records) out.push(r);
  return out;
};

describe('iterateJsonLinesBackwards', () => {
  it('yields the records of the forward reader in reverse, whatever the block size cuts (multi-byte text, long lines, a torn tail)', async () => {
    const random = seededRandom(3);
    const records = Array.from({ length: 200 }, (_, n) => ({ n, text: 'ピザ é '.repeat(Math.floor(random() * 40)) }));
    const file = path.join(dir, 'log.jsonl');
    // A torn last write (a crash mid-line) and a blank line are skipped by both readers.
    await writeFile(file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n\n{"n": 200, "te`);
    const forward = await collect(iterateJsonLines<{ n: number }>(file));
    expect(forward).toEqual(records);
    for (const chunk of [5, 64, 1000, 1 << 20]) {
      expect(await collect(iterateJsonLinesBackwards(file, chunk))).toEqual([...records].reverse());
    }
  });

  it('reads only the end of a file when the caller stops early, and nothing from a missing file', async () => {
    const file = path.join(dir, 'big.jsonl');
    await writeFile(file, `${Array.from({ length: 50_000 }, (_, n) => JSON.stringify({ n })).join('\n')}\n`);
    const newest: number[] = [];
    for await (const { n } of iterateJsonLinesBackwards<{ n: number }>(file, 4096)) {
      newest.push(n);
      if (newest.length === 3) break;
    }
    expect(newest).toEqual([49_999, 49_998, 49_997]);
    expect(await collect(iterateJsonLinesBackwards(path.join(dir, 'missing.jsonl')))).toEqual([]);
  });
});
