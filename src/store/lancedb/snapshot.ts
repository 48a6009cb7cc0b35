import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { guard } from './guard.ts';
import { type Pointer, pointerPath, readPointer } from './pointer-file.ts';

/** What a LanceDB snapshot holds: the live table and the users table, each at one version. */
export interface LanceDbSnapshot {
  pointer: string;
  tables: Array<{ name: string; version: number }>;
}

/**
 * Copies the store in `dir` into `into` at one version per table while writers carry on. Each
 * table's current version is tagged first, so the writer's compaction and version cleanup cannot
 * delete the files that version uses while they are copied; files written after it are copied
 * or not, and unused either way. The copy is then checked out at that version and restored (made
 * its latest), and the tags are removed from both. A copy therefore opens at exactly the tagged
 * versions, with their indexes.
 */
export async function snapshotLanceDb(dir: string, into: string): Promise<LanceDbSnapshot | undefined> {
  // A reindex that switches tables during the copy drops the old one under it: copy again.
  for (let attempt = 1; ; attempt++) {
    const pointer = await readPointer(dir);
    if (!pointer) return undefined;
    const snapshot = await snapshotTables(dir, into, pointer);
    if ((await readPointer(dir))?.table === pointer.table) return snapshot;
    if (attempt === 3) throw new Error('the live table switched during each of 3 copies (reindexes running): try again after they finish');
    await rm(into, { recursive: true, force: true });
  }
}

async function snapshotTables(dir: string, into: string, pointer: Pointer): Promise<LanceDbSnapshot> {
  const tag = `backup-${Date.now()}-${process.pid}`;
  const live = await guard(() => lancedb.connect(dir));
  const names = [pointer.table, ...((await live.tableNames()).includes('users') ? ['users'] : [])];
  const tables: LanceDbSnapshot['tables'] = [];
  await mkdir(into, { recursive: true });
  try {
    for (const name of names) {
      const table = await live.openTable(name);
      const version = await table.version();
      await (await table.tags()).create(tag, version);
      tables.push({ name, version });
      await copyTree(path.join(dir, `${name}.lance`), path.join(into, `${name}.lance`));
    }
    // The pointer as it named the table copied (a reindex may have switched it since).
    await writeFile(pointerPath(into), JSON.stringify(pointer, null, 2));
    const copy = await lancedb.connect(into);
    for (const { name, version } of tables) {
      const table = await copy.openTable(name);
      await table.checkout(version);
      await table.restore();
      await (await table.tags()).delete(tag);
    }
    copy.close();
  } finally {
    for (const { name } of tables) await (await (await live.openTable(name)).tags()).delete(tag).catch(() => undefined);
    live.close();
  }
  return { pointer: pointer.table, tables };
}

/**
 * Copies a directory tree, skipping files that vanish meanwhile: the writer's cleanup removes
 * files of old versions, never those of a tagged one.
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true }).catch(ignoreVanished([]))) {
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) await copyTree(src, dst);
    else await copyFile(src, dst).catch(ignoreVanished(undefined));
  }
}

function ignoreVanished<T>(fallback: T) {
  return (error: NodeJS.ErrnoException): T => {
    if (error.code === 'ENOENT') return fallback;
    throw error;
  };
}
