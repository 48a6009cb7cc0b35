/**
 * Queue administration: `npm run jobs -- <command>`.
 *   counts               jobs per state
 *   failed [--limit N]   failed jobs, newest first, with their errors (default 20)
 *   retry-failed         moves every failed job back to the queue
 *   reindex              re-embeds every stored coupon into a new table and swaps it in, then waits
 * Inputs: the same environment as the API (REDIS_URL selects BullMQ; without it the inline queue
 * in DATA_DIR, so stop the API first or use POST /v1/reindex while it runs).
 */
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { ProgressBar } from '../util/progress.ts';
import { startEngine } from '../composition.ts';

const USAGE = 'usage: npm run jobs -- counts | failed [--limit N] | retry-failed | reindex';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || !['counts', 'failed', 'retry-failed', 'reindex'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'coupon-search-cli');
  // Only a reindex needs this process to run jobs (inline), or a worker to exist (BullMQ).
  const engine = await startEngine({ config, logger, runWorker: command === 'reindex' && !config.queue.redisUrl, servesSearches: false });
  try {
    switch (command) {
      case 'counts':
        console.log(JSON.stringify(await engine.queue.counts(), null, 2));
        return 0;
      case 'failed': {
        const i = rest.indexOf('--limit');
        const limit = i >= 0 ? Number(rest[i + 1]) : 20;
        if (!Number.isInteger(limit) || limit < 1) throw new ConfigError('--limit: must be a whole number ≥ 1');
        const failed = await engine.queue.failed(limit);
        if (failed.length === 0) console.log('no failed jobs');
        for (const j of failed)
          console.log(`${j.id}\t${j.type}\tattempts=${j.attempts}\t${new Date(j.finishedAt ?? j.createdAt).toISOString()}\t${j.error ?? ''}`);
        return 0;
      }
      case 'retry-failed':
        console.log(`${await engine.queue.retryFailed()} failed jobs moved back to the queue`);
        return 0;
      case 'reindex': {
        const id = await engine.reindex();
        const bar = new ProgressBar('reindexing', 100);
        // A reindex of a large catalogue takes a while: wait for it (a day at most).
        const job = await engine.waitForJob(id, 24 * 3600_000, (j) => bar.update(j.progress ?? 0));
        if (job.state === 'completed') {
          bar.update(100);
          console.log(`reindex done: ${JSON.stringify(job.result)}`);
          return 0;
        }
        console.error(`reindex ${job.state === 'failed' ? `failed: ${job.error}` : 'did not finish'}`);
        return 1;
      }
    }
    return 2;
  } finally {
    await engine.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
