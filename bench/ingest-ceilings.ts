/**
 * Ceilings measured beside `bench:ingest`'s embedder floor, in the same run and with nothing else
 * running: what no design of the write path could exceed on this machine. Issue 11 asks indexed/s
 * to reach 0.85 × the floor; these say whether that is within reach of the work the path cannot
 * avoid: parsing the request bodies the API receives, and the durable store's own write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type { Table as ArrowTable } from 'apache-arrow';
import type { Coupon } from '../src/domain/coupon.ts';
import { couponSchema, couponTable } from '../src/store/lancedb/rows.ts';

/** Coupons a second that `JSON.parse` reads from the bodies the loader sends (one thread, as the API parses them). */
export function bodyParseRate(batches: readonly Coupon[][], coupons = 20_000): number {
  const bodies: string[] = [];
  let n = 0;
  for (const batch of batches) {
    if (n >= coupons) break;
    bodies.push(JSON.stringify({ coupons: batch }));
    n += batch.length;
  }
  // Twice, the first pass only to warm up the parser.
  let started = 0;
  for (let pass = 0; pass < 2; pass++) {
    started = performance.now();
    for (const body of bodies) JSON.parse(body);
  }
  return n / ((performance.now() - started) / 1000);
}

/**
 * The most indexed/s any pipeline could reach if it did nothing but parse the bodies and embed the
 * texts, with every core busy and never idle: per coupon, `cores / floor` core-seconds of
 * embedding (the floor keeps `cores` threads busy) plus `1 / parseRate` of parsing.
 */
export function parseAndEmbedCeiling(floor: number, parseRate: number, cores: number): number {
  return cores / (cores / floor + 1 / parseRate);
}

/**
 * Rows a second that LanceDB itself commits: the indexer's merge-insert statement (newest version
 * wins) into an empty table in a temp dir, with the rows already in Arrow form (their conversion
 * from JavaScript objects, `couponTable`, is not timed), at the best of a few commit sizes (on this machine larger
 * commits are not faster past ~5,000 rows). `vectors` are reused in turn. An empty table is the
 * store's best case: a merge-insert into a large one has more to match against.
 *
 * A sustained stream cannot be indexed faster than this whatever the write path does: the journal
 * may run ahead of the store for a while, but it must stay bounded.
 */
export async function storeWriteRate(coupons: readonly Coupon[], vectors: readonly Float32Array[], commitSizes = [2000, 5000, 20_000]): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-ingest-store-'));
  const db = await lancedb.connect(dir);
  try {
    const schema = couponSchema(vectors[0]!.length);
    const rows = couponTable(
      coupons.map((coupon, i) => ({ coupon, vector: vectors[i % vectors.length]! })),
      schema,
    );
    let best = 0;
    for (const [k, size] of commitSizes.entries()) {
      const table = await db.createEmptyTable(`coupons_${k}`, schema);
      const commits: ArrowTable[] = [];
      for (let i = 0; i < rows.numRows; i += size) commits.push(rows.slice(i, i + size));
      const started = performance.now();
      for (const commit of commits) {
        await table.mergeInsert('id').whenMatchedUpdateAll({ where: 'target.version < source.version' }).whenNotMatchedInsertAll().execute(commit);
      }
      best = Math.max(best, rows.numRows / ((performance.now() - started) / 1000));
      table.close();
    }
    return best;
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
