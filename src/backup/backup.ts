import { copyFile, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config.ts';
import { type LanceDbSnapshot, snapshotLanceDb } from '../store/lancedb/snapshot.ts';
import { type QdrantSnapshotFile, snapshotQdrant } from '../store/qdrant/snapshot.ts';
import { type ArchivedFile, checksums, runTool, tarDirectory } from './archive.ts';

/** What a backup holds, in `manifest.json` at the archive's root. */
export interface BackupManifest {
  format: 1;
  /** When the snapshot started: every write acknowledged before this instant is in it. */
  started_at: string;
  finished_at: string;
  store: { kind: 'embedded'; lancedb: LanceDbSnapshot | undefined } | { kind: 'qdrant'; collection_alias: string; snapshots: QdrantSnapshotFile[] };
  events: { kind: 'file' } | { kind: 'postgres'; dump: string; table_prefix: string };
  /** Model directories, by the name they are restored under (`models/<name>`). */
  models: string[];
  keys: boolean;
  /** Every file in the archive but the manifest, with its size and SHA-256. */
  files: ArchivedFile[];
}

/** Files in DATA_DIR to copy first: the job journal before anything it could be folded into. */
const FIRST = ['jobs.jsonl'];

/**
 * Takes a consistent backup of an installation while it serves: DATA_DIR's files (the job
 * journal first, then the event files, definitions and audit log — append-only or replaced
 * atomically, so each copy is a state the file really had), the event store's PostgreSQL tables
 * (`pg_dump`, one transaction), the vectors (LanceDB at one tagged version per table, or a Qdrant
 * snapshot per collection), the models and the keys file, with a manifest of versions and
 * checksums, as one tar. The order makes it consistent: a coupon write acknowledged before the
 * start is either still in the journal copied first, or already in the store version taken later.
 */
export async function takeBackup(config: Config, out: string, log: (line: string) => void = () => undefined): Promise<BackupManifest> {
  const started = new Date();
  const staging = await mkdtemp(path.join(tmpdir(), 'coupon-backup-'));
  try {
    const data = path.join(staging, 'data');
    await mkdir(data, { recursive: true });
    const top = await readdir(config.dataDir, { withFileTypes: true }).catch(() => []);
    const files = top.filter((e) => e.isFile() && !e.name.endsWith('.tmp')).map((e) => e.name);
    for (const name of [...FIRST.filter((f) => files.includes(f)), ...files.filter((f) => !FIRST.includes(f))]) {
      await copyFile(path.join(config.dataDir, name), path.join(data, name));
    }
    log(`data files: ${files.length} copied from ${config.dataDir}`);

    let events: BackupManifest['events'] = { kind: 'file' };
    if (config.events.kind === 'postgres') {
      const dump = 'postgres.sql';
      const prefix = config.events.tablePrefix;
      await runTool('pg_dump', [
        '--dbname',
        config.events.url,
        '--table',
        `${prefix}*`,
        '--no-owner',
        '--clean',
        '--if-exists',
        '--file',
        path.join(staging, dump),
      ]);
      events = { kind: 'postgres', dump, table_prefix: prefix };
      log(`event store: pg_dump of the ${prefix}* tables`);
    }

    let store: BackupManifest['store'];
    if (config.store.kind === 'embedded') {
      const lancedb = await snapshotLanceDb(config.store.dir, path.join(data, 'lancedb'));
      store = { kind: 'embedded', lancedb };
      log(lancedb ? `vectors: LanceDB ${lancedb.tables.map((t) => `${t.name}@v${t.version}`).join(', ')}` : 'vectors: no LanceDB store yet');
    } else {
      const dir = path.join(staging, 'qdrant');
      await mkdir(dir);
      const target = { url: config.store.url, apiKey: config.store.apiKey, alias: config.store.collection };
      const snapshots = await snapshotQdrant(target, dir);
      store = { kind: 'qdrant', collection_alias: config.store.collection, snapshots };
      log(`vectors: Qdrant snapshots of ${snapshots.map((s) => s.collection).join(', ')}`);
    }

    const models: string[] = [];
    const modelDirs = {
      ranker: config.rankerDir,
      recommender: config.recommenderDir,
      ...(config.embedder.kind === 'static' && { embedder: config.embedder.adaptationDir, 'query-bridge': config.embedder.queryBridge?.dir }),
    };
    for (const [name, dir] of Object.entries(modelDirs)) {
      if (!dir || !(await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      await cp(dir, path.join(staging, 'models', name), { recursive: true });
      models.push(name);
    }
    const keysFile = config.access.apiKeysFile;
    const keys = keysFile !== undefined && (await stat(keysFile).catch(() => undefined)) !== undefined;
    if (keys) await copyFile(keysFile, path.join(staging, 'keys.json'));
    log(`models: ${models.join(', ') || 'none'}; keys file: ${keys ? 'yes' : 'none'}`);

    const manifest: BackupManifest = {
      format: 1,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      store,
      events,
      models,
      keys,
      files: await checksums(staging),
    };
    await writeFile(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2));
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await tarDirectory(staging, path.resolve(out));
    log(`wrote ${out}: ${manifest.files.length} files, ${manifest.files.reduce((n, f) => n + f.bytes, 0).toLocaleString('en')} bytes`);
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
