import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { recoverQdrant, type QdrantTarget } from '../store/qdrant/snapshot.ts';
import { checksums, mismatches, runTool, untar } from './archive.ts';
import type { BackupManifest } from './backup.ts';

export interface RestoreOptions {
  /** Where the installation is restored: DATA_DIR, with `keys.json` and `models/` inside it. */
  dataDir: string;
  /** Replace what a non-empty `dataDir` holds. */
  force?: boolean;
  /** Load a PostgreSQL event store's dump into this database (else it is left as `postgres.sql`). */
  databaseUrl?: string | undefined;
  /** Upload Qdrant snapshots to this server (else they are left under `qdrant/`). */
  qdrant?: QdrantTarget | undefined;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** The environment that starts the API on what was restored. */
  env: Record<string, string>;
  /** What is left to do by hand, if anything. */
  todo: string[];
}

/**
 * Restores a backup (`takeBackup`) into `dataDir`: every file is checked against the manifest's
 * checksums before anything is moved into place, and a non-empty directory is only replaced with
 * `force`. The data files and LanceDB tables go to `dataDir`, the keys file and models beside
 * them; a PostgreSQL dump is loaded with psql and Qdrant snapshots uploaded when a target is given.
 */
export async function restoreBackup(file: string, options: RestoreOptions): Promise<RestoreResult> {
  const dataDir = path.resolve(options.dataDir);
  const existing = await readdir(dataDir).catch(() => []);
  if (existing.length > 0 && !options.force) throw new Error(`${dataDir} is not empty (${existing.length} entries): pass --force to replace what it holds`);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const staging = await mkdtemp(path.join(path.dirname(dataDir), '.restore-'));
  try {
    await untar(path.resolve(file), staging).catch((error: Error) => {
      throw new Error(`${file} is not a readable tar: ${error.message}`);
    });
    const manifest = await readManifest(staging);
    if (manifest.format !== 1) throw new Error(`unknown backup format ${String(manifest.format)}`);
    const present = (await checksums(staging)).filter((f) => f.path !== 'manifest.json');
    const bad = mismatches(manifest.files, present);
    if (bad.length) throw new Error(`the backup is damaged: ${bad.slice(0, 5).join('; ')}`);

    const target = path.join(staging, 'data');
    for (const [name, from] of [
      ['keys.json', path.join(staging, 'keys.json')],
      ['models', path.join(staging, 'models')],
      ['qdrant', path.join(staging, 'qdrant')],
      ['postgres.sql', path.join(staging, 'postgres.sql')],
    ] as const) {
      if (await exists(from)) await cp(from, path.join(target, name), { recursive: true });
    }
    await rm(dataDir, { recursive: true, force: true });
    await rename(target, dataDir);

    const env: Record<string, string> = { DATA_DIR: dataDir };
    const todo: string[] = [];
    if (manifest.keys) env.API_KEYS_FILE = path.join(dataDir, 'keys.json');
    const modelEnv: Record<string, string> = {
      ranker: 'RANKER_MODEL_DIR',
      recommender: 'RECOMMENDER_MODEL_DIR',
      embedder: 'EMBEDDER_ADAPTATION_DIR',
      'query-bridge': 'QUERY_BRIDGE_DIR',
    };
    for (const name of manifest.models) env[modelEnv[name]!] = path.join(dataDir, 'models', name);
    if (manifest.events.kind === 'postgres') {
      const dump = path.join(dataDir, manifest.events.dump);
      if (options.databaseUrl) {
        await runTool('psql', ['--dbname', options.databaseUrl, '--quiet', '--set', 'ON_ERROR_STOP=1', '--file', dump]);
        env.DATABASE_URL = options.databaseUrl;
        env.EVENTS_TABLE_PREFIX = manifest.events.table_prefix;
      } else todo.push(`load the event store: psql --dbname <DATABASE_URL> --file ${dump}`);
    }
    if (manifest.store.kind === 'qdrant') {
      if (options.qdrant) {
        await recoverQdrant(options.qdrant, path.join(dataDir, 'qdrant'), manifest.store.snapshots);
        Object.assign(env, { VECTOR_STORE: 'qdrant', QDRANT_URL: options.qdrant.url, QDRANT_COLLECTION: options.qdrant.alias });
      } else
        todo.push(`upload the Qdrant snapshots under ${path.join(dataDir, 'qdrant')}: npm run restore -- <file> --data-dir <dir> --force --qdrant-url <url>`);
    }
    return { manifest, env, todo };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function readManifest(dir: string): Promise<BackupManifest> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
  } catch (error) {
    throw new Error(
      `the backup is damaged or not a backup: manifest.json ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'does not parse'}`,
    );
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
