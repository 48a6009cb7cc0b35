import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One file of a backup, as the manifest lists it. */
export interface ArchivedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Every file under `root` with its size and SHA-256, paths relative to `root` (sorted). */
export async function checksums(root: string): Promise<ArchivedFile[]> {
  const out: ArchivedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push({ path: path.relative(root, full).split(path.sep).join('/'), ...(await hashFile(full)) });
    }
  };
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The files of `actual` that are missing from or differ from `expected`. */
export function mismatches(expected: readonly ArchivedFile[], actual: readonly ArchivedFile[]): string[] {
  const got = new Map(actual.map((f) => [f.path, f]));
  return expected.flatMap((f) => {
    const a = got.get(f.path);
    if (!a) return [`${f.path}: missing`];
    return a.sha256 === f.sha256 && a.bytes === f.bytes ? [] : [`${f.path}: checksum differs`];
  });
}

/** A tar of the directory's contents (the system's tar: present wherever Node runs here, the Docker image included). */
export async function tarDirectory(dir: string, out: string): Promise<void> {
  await run('tar', ['-cf', out, '-C', dir, '.'], { maxBuffer: 1 << 24 });
}

export async function untar(file: string, into: string): Promise<void> {
  await run('tar', ['-xf', file, '-C', into], { maxBuffer: 1 << 24 });
}

export async function runTool(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(command, args, { maxBuffer: 1 << 26, env: env ?? process.env });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed (needed for this backup step)`);
    throw new Error(`${command} failed: ${(e.stderr ?? e.message).trim().slice(0, 500)}`);
  }
}
