/**
 * The indexing worker process (scale-out mode): `REDIS_URL=redis://… npm run worker`.
 * Inputs: the same environment as the API (see README, Configuration); REDIS_URL is required.
 * Runs upsert/delete/reindex jobs from BullMQ with WORKER_CONCURRENCY jobs at once; SIGTERM or
 * SIGINT finishes the active jobs, flushes batched writes and exits 0. Start as many as you like.
 */
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { startEngine } from '../composition.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.queue.redisUrl) throw new ConfigError('REDIS_URL: required for a separate worker (without Redis, jobs run inside the API process)');
  const logger = createLogger(config.logLevel, 'coupon-search-worker');
  const engine = await startEngine({ config, logger, runWorker: true, servesSearches: false });
  logger.info({ concurrency: config.queue.concurrency, prefix: config.queue.prefix }, 'worker started');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping: finishing active jobs');
    await engine.close();
    logger.info('worker stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
