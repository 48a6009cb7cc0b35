import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { VectorSpace } from '../vector-store.ts';

/** Which table is live, and the vector space its vectors were made in. Replaced atomically (rename). */
export interface Pointer {
  table: string;
  space: VectorSpace;
  /** Row count when the ANN index was last (re)built; it is rebuilt when the table doubles. */
  annBuiltAt?: number;
}

const POINTER_FILE = 'current.json';

export const pointerPath = (dir: string): string => path.join(dir, POINTER_FILE);

/** The pointer file's modification time (0 when absent): cheap to poll for another process's switch. */
export function pointerMtime(dir: string): Promise<number> {
  return stat(pointerPath(dir)).then(
    (s) => s.mtimeMs,
    () => 0,
  );
}

export async function readPointer(dir: string): Promise<Pointer | undefined> {
  try {
    return JSON.parse(await readFile(pointerPath(dir), 'utf8')) as Pointer;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writePointer(dir: string, pointer: Pointer): Promise<void> {
  const tmp = `${pointerPath(dir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(pointer, null, 2));
  await rename(tmp, pointerPath(dir));
}
