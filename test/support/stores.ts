import { existsSync } from 'node:fs';
import path from 'node:path';
import { QdrantEmulator } from './qdrant/emulator.ts';
import { OpenApiValidator } from './qdrant/openapi.ts';
import type { Coupon } from '../../src/domain/coupon.ts';
import { startServer, type TestServer, testEnv } from './server.ts';
import { SHARED_DIR, tempDir } from './tmp.ts';

const QDRANT_SPEC = path.join(SHARED_DIR, 'qdrant/openapi-1.19.json');

/** A vector store the engine-level suites run on: its environment, and how to stop what it started. */
export interface StoreSetup {
  name: string;
  /** Why it cannot run here, if it cannot. */
  missing: string | undefined;
  start(): Promise<{ env: Record<string, string>; stop(): Promise<void> }>;
}

/**
 * The stores every search-experience suite runs on: the embedded LanceDB default, and Qdrant
 * through the spec-checking emulator (no Qdrant server runs here) when ../shared has its spec.
 * The features are the engine's, so they must behave the same on both.
 */
export const STORE_SETUPS: StoreSetup[] = [
  { name: 'LanceDB', missing: undefined, start: async () => ({ env: {}, stop: async () => undefined }) },
  {
    name: 'Qdrant (emulator)',
    missing: existsSync(QDRANT_SPEC) ? undefined : `needs ${QDRANT_SPEC}`,
    async start() {
      const emulator = new QdrantEmulator(new OpenApiValidator(QDRANT_SPEC));
      const url = await emulator.start();
      return { env: { VECTOR_STORE: 'qdrant', QDRANT_URL: url, QDRANT_COLLECTION: 'coupons' }, stop: () => emulator.stop() };
    },
  },
];

/**
 * An API server on `setup`'s store in a temp data dir, with `coupons` indexed; its `close` also
 * stops the store and removes the dir. The one set-up of the search-experience suites.
 */
export async function serveCatalogue(
  setup: StoreSetup,
  coupons: readonly Coupon[],
  options: { dirPrefix: string; env?: Record<string, string> },
): Promise<TestServer> {
  const dir = await tempDir(options.dirPrefix);
  const store = await setup.start();
  const server = await startServer(testEnv(dir.dir, { ...options.env, ...store.env }));
  await server.engine.upsertCoupons(coupons);
  await server.engine.waitForIndexing();
  return {
    ...server,
    async close() {
      await server.close();
      await store.stop();
      await dir.cleanup();
    },
  };
}
