import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Definition, DefinitionKind, DefinitionStore } from './definition-store.ts';

interface FileShape {
  revisions: Partial<Record<DefinitionKind, number>>;
  items: Partial<Record<DefinitionKind, Record<string, { body: unknown; updatedAt: string }>>>;
}

/**
 * Definitions in one JSON file (embedded mode: one process). Each write replaces the file
 * atomically (a temp file, fsync'd, renamed over it), so a crash leaves the old or the new
 * version, never half of one.
 */
export class FileDefinitionStore implements DefinitionStore {
  readonly kind = 'file';
  private data: FileShape = { revisions: {}, items: {} };
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly filePath: string) {}

  async open(): Promise<void> {
    await mkdir(path.dirname(this.filePath), { recursive: true });
    try {
      this.data = JSON.parse(await readFile(this.filePath, 'utf8')) as FileShape;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${this.filePath}: ${(error as Error).message}`);
    }
  }

  async list(kind: DefinitionKind): Promise<Definition[]> {
    return Object.entries(this.data.items[kind] ?? {}).map(([id, d]) => ({ id, ...d }));
  }

  async put(kind: DefinitionKind, id: string, body: unknown): Promise<Definition> {
    return (await this.write(kind, (data) => {
      const updatedAt = new Date().toISOString();
      (data.items[kind] ??= {})[id] = { body, updatedAt };
      return { id, body, updatedAt };
    })) as Definition;
  }

  async delete(kind: DefinitionKind, id: string): Promise<boolean> {
    return (
      (await this.write(kind, (data) => {
        const items = data.items[kind];
        if (!items || !(id in items)) return false;
        delete items[id];
        return true;
      })) !== false
    );
  }

  async revision(kind: DefinitionKind): Promise<number> {
    return this.data.revisions[kind] ?? 0;
  }

  async close(): Promise<void> {
    await this.writes;
  }

  /** One write at a time: change a copy (`false`: nothing to change), persist it, then make it the current state. */
  private write<T>(kind: DefinitionKind, change: (data: FileShape) => T | false): Promise<T | false> {
    const run = this.writes.then(async () => {
      const next = structuredClone(this.data);
      const result = change(next);
      if (result === false) return result;
      next.revisions[kind] = (next.revisions[kind] ?? 0) + 1;
      const tmp = `${this.filePath}.${process.pid}.tmp`;
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(JSON.stringify(next));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.filePath);
      this.data = next;
      return result;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}
