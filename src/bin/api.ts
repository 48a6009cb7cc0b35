import type { Server } from 'node:http';
import net from 'node:net';
import { checkListenPolicy } from '../access/listen-policy.ts';
import { createApp } from '../api/app.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { Engine } from '../engine.ts';
import { createLogger, type Logger } from '../log.ts';
import { generateCatalogue, SAMPLE_DEMO } from '../sample/catalogue.ts';
import { simulateShoppers } from '../sample/shoppers.ts';
import { ProgressBar } from '../util/progress.ts';
import { startEngine } from '../composition.ts';

/**
 * `npm start`: the API on embedded defaults. On first run (an empty store) it indexes the sample
 * catalogue and records seeded simulated shoppers' events, so search, feeds and the demo at /demo
 * have something to show.
 */
async function main(): Promise<void> {
  let config: Config;
  let warning: string | undefined;
  try {
    config = loadConfig();
    warning = checkListenPolicy(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (warning) logger.warn(warning);
  const engine = await startEngine({ config, logger, runWorker: !config.queue.redisUrl || config.queue.workerInApi });
  const app = createApp(engine, { demo: SAMPLE_DEMO });
  const server = app.listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${port}`;
  logger.info({ url, ...engine.describe() }, 'listening');
  const shutdown = installShutdown(server, engine, logger, config);

  if (config.sample.seed && (await engine.store.stats()).count === 0) {
    // A SIGTERM during seeding waits for the step under way, then the seeding stops there.
    const seeding = seedSample(engine, config.sample.size);
    shutdown.waitFor(seeding);
    await seeding;
    if (engine.isDraining) return;
  }
  const stats = await engine.store.stats();
  process.stderr.write(
    `\nCoupon search is up at ${url} with ${stats.count} coupons.\n` + `Try:  curl '${url}/v1/search?q=half+price+pizza&limit=3'\n` + `Demo: ${url}/demo\n\n`,
  );
}

async function seedSample(engine: Engine, size: number): Promise<void> {
  const coupons = generateCatalogue({ size });
  await engine.upsertCoupons(coupons);
  const bar = new ProgressBar('indexing sample catalogue', coupons.length);
  await engine.waitForIndexing((pending) => bar.update(coupons.length - Math.min(pending, coupons.length)));
  // Shoppers' history: feeds for shopper-0001… and popularity for everyone else.
  const { events } = simulateShoppers(coupons, { shoppers: 200, sessions: 6, end: new Date() });
  const recording = new ProgressBar("recording sample shoppers' events", events.length);
  for (let i = 0; i < events.length && !engine.isDraining; i += 1000) {
    await engine.recordEvents(events.slice(i, i + 1000));
    recording.update(Math.min(events.length, i + 1000));
  }
}

/** How long connections opened before SIGTERM may take to send their request. */
const SHUTDOWN_GRACE_MS = 500;

function installShutdown(server: Server, engine: Engine, logger: Logger, config: Config): { waitFor(work: Promise<unknown>): void } {
  let stopping = false;
  const background: Array<Promise<unknown>> = [];
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, delay_ms: config.server.shutdownDelayMs }, 'shutting down: draining requests and jobs');
    // First stay up but report not-ready, so load balancers stop sending new requests; requests
    // already on their way (even still in the accept backlog) are served.
    engine.startDraining();
    await new Promise((r) => setTimeout(r, config.server.shutdownDelayMs));
    // Stop accepting connections. http.Server#close would also drop idle keep-alive connections at
    // once, including ones whose request is on the wire but not yet parsed (the client sees a
    // reset), so close the listener only, give open connections a grace period to deliver their
    // requests, and then close the idle ones until every in-flight response is out.
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    server.on('request', (_req, res) => res.setHeader('Connection', 'close'));
    const reaper = setTimeout(function reap() {
      server.closeIdleConnections();
      reaper.refresh();
    }, SHUTDOWN_GRACE_MS);
    await closed;
    clearTimeout(reaper);
    await Promise.allSettled(background);
    await engine.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return { waitFor: (work) => void background.push(work) };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
