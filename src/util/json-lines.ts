import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

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
  return text.split('\n').flatMap((line) => parseLine<T>(line));
}

/** One record, or none for a blank line or the torn tail of an interrupted write. */
function parseLine<T>(line: string): T[] {
  if (!line.trim()) return [];
  try {
    return [JSON.parse(line) as T];
  } catch {
    return [];
  }
}

/** The same records, streamed line by line (for files too large to hold as one string). */
export async function* iterateJsonLines<T>(path: string): AsyncGenerator<T> {
  if (!existsSync(path)) return;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) yield* parseLine<T>(line);
}
