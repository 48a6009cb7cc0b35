/** `npm run jobs`: failed jobs are listable and retryable from the command line. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { makeCoupon } from '../support/coupons.ts';
import { spawnTs } from '../support/processes.ts';
import { tempDir } from '../support/tmp.ts';

it('lists failed jobs with their errors, counts jobs, and explains its usage', async () => {
  const { dir, cleanup } = await tempDir('jobs-cli-');
  try {
    // A journal as a crashed process would leave it: one job failed for good, one never finished.
    const failed = { type: 'upsert', coupon: makeCoupon('broken', { version: 3 }) };
    const lines = [
      { op: 'add', id: 'upsert-broken-v3', job: failed, at: 1 },
      { op: 'failed', id: 'upsert-broken-v3', error: 'store unavailable: disk full' },
    ];
    await writeFile(path.join(dir, 'jobs.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const env = { DATA_DIR: dir, LOG_LEVEL: 'silent', SEED_SAMPLE: 'false', EMBED_THREADS: '0' };

    const list = spawnTs('src/bin/jobs.ts', env, ['failed']);
    expect(await list.exited).toBe(0);
    expect(list.output()).toMatch(/upsert-broken-v3\tupsert\tattempts=5\t.*store unavailable: disk full/);

    const counts = spawnTs('src/bin/jobs.ts', env, ['counts']);
    expect(await counts.exited).toBe(0);
    expect(JSON.parse(counts.output())).toMatchObject({ failed: 1, waiting: 0 });

    const usage = spawnTs('src/bin/jobs.ts', env, ['frobnicate']);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toContain('usage: npm run jobs');
  } finally {
    await cleanup();
  }
});
