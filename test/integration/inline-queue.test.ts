/** The embedded default's queue: nothing accepted is lost across a crash; retries; failed jobs kept. */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InlineQueue } from '../../src/indexing/inline-queue.ts';
import type { IndexJob } from '../../src/indexing/jobs.ts';
import { createLogger } from '../../src/log.ts';
import { makeCoupon } from '../support/coupons.ts';
import { tempDir } from '../support/tmp.ts';
import { waitFor } from '../support/processes.ts';

const logger = createLogger('silent');
const upsert = (id: string, version = 1): IndexJob => ({ type: 'upsert', coupon: makeCoupon(id, { version }) });

/** The queue as the next process opens it on this journal, recording the jobs it runs (coupon ids). */
async function reopenRecording(journalPath: string, concurrency: number): Promise<{ queue: InlineQueue; seen: string[] }> {
  const seen: string[] = [];
  const queue = await InlineQueue.open({
    journalPath,
    concurrency,
    logger,
    handler: async (job) => {
      seen.push(job.type === 'upsert' ? job.coupon.id : job.type);
      return 'ok';
    },
  });
  return { queue, seen };
}

describe('InlineQueue', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  it('replays jobs that were accepted but not finished when the process died', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    const journalPath = `${t.dir}/jobs.jsonl`;
    // First "process": accepts three jobs, finishes one, then dies with two in flight.
    let calls = 0;
    const hang = new Promise<never>(() => {});
    const first = await InlineQueue.open({ journalPath, concurrency: 1, logger, handler: async () => (++calls === 1 ? 'ok' : hang) });
    const ids = await first.enqueue([upsert('a'), upsert('b'), upsert('c')]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await first.get(ids[0]!))!.state).toBe('completed');
    // (no close: the process is gone)
    const { queue: second, seen } = await reopenRecording(journalPath, 4);
    await second.drained(5000);
    expect(seen.sort()).toEqual(['b', 'c']);
    await second.close();
    // A third start has nothing left to do.
    const third = await InlineQueue.open({ journalPath, concurrency: 1, logger, handler: async () => expect.fail('nothing to replay') });
    expect(await third.counts()).toMatchObject({ waiting: 0, active: 0 });
    await third.close();
  });

  it('retries with exponential backoff, keeps jobs that fail for good, and can retry them', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    const attempts: number[] = [];
    let healthy = false;
    const queue = await InlineQueue.open({
      journalPath: `${t.dir}/jobs.jsonl`,
      concurrency: 2,
      logger,
      retry: { attempts: 3, backoffMs: 20 },
      handler: async () => {
        attempts.push(Date.now());
        if (!healthy) throw new Error('store down');
        return 'ok';
      },
    });
    const [id] = await queue.enqueue([upsert('x')]);
    await queue.drained(5000);
    expect(attempts).toHaveLength(3);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(attempts[1]! - attempts[0]!); // backoff grows
    const [failed] = await queue.failed();
    expect(failed).toMatchObject({ id, state: 'failed', attempts: 3, error: 'store down' });
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 1 });
    healthy = true;
    expect(await queue.retryFailed()).toBe(1);
    await queue.drained(5000);
    expect((await queue.get(id!))!.state).toBe('completed');
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0 });
    await queue.close();
  });

  it('counts jobs by state as they move, forgets the oldest completed, and restores the counts after a restart', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    const journalPath = `${t.dir}/jobs.jsonl`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const queue = await InlineQueue.open({
      journalPath,
      concurrency: 2,
      logger,
      keepCompleted: 3,
      retry: { attempts: 2, backoffMs: 60_000 },
      handler: async (job) => {
        if (job.type === 'upsert' && job.coupon.id.startsWith('bad')) throw new Error('rejected');
        await gate;
        return 'ok';
      },
    });
    await queue.enqueue([upsert('bad-1'), upsert('a'), upsert('b'), upsert('c'), upsert('d'), upsert('e')]);
    // bad-1 failed once and waits a minute for its retry; a and b hold the two slots; c, d, e wait.
    await new Promise((r) => setTimeout(r, 50));
    expect(await queue.counts()).toEqual({ waiting: 3, active: 2, delayed: 1, completed: 0, failed: 0 });
    expect(await queue.depth()).toBe(6);
    release();
    await new Promise((r) => setTimeout(r, 100));
    // Five completed, of which the queue remembers the newest three.
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 1, completed: 3, failed: 0 });
    expect(await queue.depth()).toBe(1);
    await queue.close();
    const reopened = await InlineQueue.open({
      journalPath,
      concurrency: 1,
      logger,
      retry: { attempts: 1, backoffMs: 10 },
      handler: async () => Promise.reject(new Error('still rejected')),
    });
    await reopened.drained(5000);
    expect(await reopened.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 1 });
    await reopened.close();
    const again = await InlineQueue.open({ journalPath, concurrency: 1, logger, handler: async () => expect.fail('a failed job is not replayed') });
    expect(await again.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 1 });
    await again.close();
  });

  it('enqueues the same coupon version once', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    let runs = 0;
    const queue = await InlineQueue.open({ journalPath: `${t.dir}/jobs.jsonl`, concurrency: 1, logger, handler: async () => ++runs });
    const a = await queue.enqueue([upsert('x', 5), upsert('x', 5)]);
    const b = await queue.enqueue([upsert('x', 5), upsert('x', 6)]);
    await queue.drained(5000);
    expect(a[0]).toBe(a[1]);
    expect(b[0]).toBe(a[0]);
    expect(runs).toBe(2);
    await queue.close();
  });

  it('replays exactly the open jobs, and keeps the failed ones, from a journal rewritten in slices while jobs ran', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    const journalPath = `${t.dir}/jobs.jsonl`;
    // The first 1,300 jobs end (every hundredth fails for good); the rest never do: the process "dies" with them open.
    const ends = (id: string) => Number(id.slice(1)) < 1300;
    const fails = (id: string) => Number(id.slice(1)) % 100 === 7;
    const hang = new Promise<never>(() => {});
    const first = await InlineQueue.open({
      journalPath,
      concurrency: 50,
      logger,
      compactJournalAfter: 100,
      retry: { attempts: 1, backoffMs: 10 },
      handler: async (job) => {
        const id = job.type === 'upsert' ? job.coupon.id : '';
        if (!ends(id)) return hang;
        if (fails(id)) throw new Error(`rejected ${id}`);
        return 'ok';
      },
    });
    await first.enqueue(Array.from({ length: 2500 }, (_, i) => upsert(`j${i}`)));
    await waitFor('1,300 jobs to end', async () => {
      const c = await first.counts();
      return c.completed + c.failed === 1300;
    });
    // The rewrite (well over one slice of open jobs) and the appends after it reach the disk.
    await waitFor('the journal to be rewritten', async () => (await readFile(journalPath, 'utf8')).split('\n').filter(Boolean).length < 2 * 1300);
    await new Promise((r) => setTimeout(r, 100));
    const { queue: second, seen: replayed } = await reopenRecording(journalPath, 8);
    await second.drained(10_000);
    const expectedOpen = Array.from({ length: 1200 }, (_, i) => `j${1300 + i}`);
    expect(replayed.sort()).toEqual(expectedOpen.sort());
    const failed = (await second.failed(1000)).map((f) => f.id);
    expect(failed).toHaveLength(13);
    expect(await second.counts()).toMatchObject({ waiting: 0, active: 0, failed: 13, completed: 1200 });
    await second.close();
  });

  it('keeps its journal compact while running, and empty once idle', async () => {
    const t = await tempDir('inline-queue-');
    cleanup = t.cleanup;
    const journalPath = `${t.dir}/jobs.jsonl`;
    const lines = async () => (await readFile(journalPath, 'utf8')).split('\n').filter(Boolean).length;
    // Jobs finish only as the test hands out budget, so the journal can be read mid-stream.
    let budget = 0;
    const handler = async () => {
      while (budget <= 0) await new Promise((r) => setTimeout(r, 1));
      budget--;
    };
    const queue = await InlineQueue.open({ journalPath, concurrency: 4, logger, compactJournalAfter: 20, handler });
    await queue.enqueue(Array.from({ length: 200 }, (_, i) => upsert(`j${i}`)));
    let compacted = 0;
    let previous = 200;
    for (let round = 0; round < 12; round++) {
      budget += 15;
      while (budget > 0) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 20)); // the journal writes of those jobs land
      const counts = await queue.counts();
      const open = counts.waiting + counts.active;
      const now = await lines();
      if (now < previous) compacted++;
      previous = now;
      // One add line per open job, plus add + done lines of at most max(threshold, open) finished
      // jobs (a rewrite costs O(open), so it waits for that many), plus this round's 15.
      expect(now).toBeLessThanOrEqual(open + 2 * Math.max(20, open) + 2 * 15);
    }
    expect(compacted).toBeGreaterThanOrEqual(2);
    budget = Number.POSITIVE_INFINITY;
    await queue.drained(5000);
    await queue.close();
    expect(await lines()).toBe(0);
  });
});
