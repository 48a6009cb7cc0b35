import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createApp } from '../../src/api/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Engine } from '../../src/engine.ts';
import { createLogger } from '../../src/log.ts';
import { startEngine } from '../../src/composition.ts';
import { SAMPLE_DEMO } from '../../src/sample/catalogue.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestServer {
  engine: Engine;
  config: Config;
  url: string;
  close(): Promise<void>;
}

/** Env for an isolated engine: its own data dir and, with Redis, its own queue prefix. */
export function testEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  // One embedding thread: exercises the pool without oversubscribing two cores shared by parallel test files.
  // Rate limits off unless a test is about them (suites fire requests faster than a shopper would);
  // no learned ranker unless a test brings one, so a local models/ranker cannot change results.
  return {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    SEED_SAMPLE: 'false',
    EMBED_THREADS: '1',
    QUEUE_PREFIX: `test-${randomUUID()}`,
    RATE_LIMIT_IP_RPS: '0',
    RATE_LIMIT_KEY_RPS: '0',
    EVENTS_PER_USER_PER_MINUTE: '0',
    RANKER_MODEL_DIR: 'none',
    ...extra,
  };
}

/** A real engine and HTTP server on an ephemeral port. */
export async function startServer(env: Record<string, string>, options: { runWorker?: boolean; clock?: () => Date } = {}): Promise<TestServer> {
  const config = loadConfig(env);
  const engine = await startEngine({
    config,
    logger: createLogger(config.logLevel),
    runWorker: options.runWorker ?? true,
    retry: { attempts: 3, backoffMs: 50 },
    quietRefreshMs: 200,
    ...(options.clock && { clock: options.clock }),
  });
  const server = createApp(engine, { demo: SAMPLE_DEMO }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    engine,
    config,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await engine.close();
    },
  };
}

export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
