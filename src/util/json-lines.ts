import { createReadStream, existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
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
export function parseLine<T>(line: string): T[] {
  if (!line.trim()) return [];
  try {
    return [JSON.parse(line) as T];
  } catch {
    return [];
  }
}

/** The same records, streamed line by line (for files too large to hold as one string). */
export async function* iterateJsonLines<T>(path: string): AsyncGenerator<T> {
  for await (const line of iterateLines(path)) yield* parseLine<T>(line);
}

/** The file's lines, unparsed (a reader that can tell from the text which records it wants parses only those). */
export async function* iterateLines(path: string): AsyncGenerator<string> {
  if (!existsSync(path)) return;
  yield* createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
}

/**
 * The same records, last line first, read from the end of the file in `chunkBytes` blocks: the
 * newest records of a large log cost what they are, not what the whole file is.
 */
export async function* iterateJsonLinesBackwards<T>(path: string, chunkBytes = 1 << 20): AsyncGenerator<T> {
  if (!existsSync(path)) return;
  const file = await open(path, 'r');
  try {
    let end = (await file.stat()).size;
    // Bytes of a line cut by the last block read, kept until its start is read.
    let tail = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - chunkBytes);
      const block = Buffer.alloc(end - start);
      await file.read(block, 0, block.length, start);
      const bytes = Buffer.concat([block, tail]);
      end = start;
      // Lines are cut at newline bytes, never inside a multi-byte character; the block's first
      // line may have begun in the block before (a line longer than a block waits whole).
      const firstBreak = start === 0 ? -1 : bytes.indexOf(10);
      if (start > 0 && firstBreak < 0) {
        tail = bytes;
        continue;
      }
      tail = bytes.subarray(0, Math.max(0, firstBreak));
      const lines = bytes
        .subarray(firstBreak + 1)
        .toString('utf8')
        .split('\n');
      for (let i = lines.length - 1; i >= 0; i--) yield* parseLine<T>(lines[i]!);
    }
  } finally {
    await file.close();
  }
}
