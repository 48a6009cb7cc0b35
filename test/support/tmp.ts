import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp dir per test suite, removed afterwards. */
export async function tempDir(prefix = 'coupon-search-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether ../shared (data and specs beside the checkout) is present. */
export const SHARED_DIR = path.resolve(import.meta.dirname, '../../../shared');
