import { readFile } from 'node:fs/promises';

/**
 * The records of an append-only JSON-lines file; a missing file has none. A line that does not
 * parse (the torn tail of a write interrupted by a crash) is skipped.
 */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn last line
    }
  }
  return out;
}
