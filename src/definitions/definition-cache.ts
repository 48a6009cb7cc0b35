import type { Logger } from '../log.ts';
import type { DefinitionKind, DefinitionStore } from './definition-store.ts';

/** A stored definition as the API shows it: its body, its id and the time of its last write. */
export type Stored<T> = T & { id: string; updated_at: string };

/**
 * The definitions of one kind in force (synonym sets, rules), compiled for the search path:
 * persisted in the definition store, held here so a search never waits on it. A write through
 * this cache takes effect at once in this process; other processes notice the store's revision
 * change within `refreshMs` and reload. A failed background reload keeps the previous ones.
 */
export class DefinitionCache<T extends object, Compiled> {
  compiled: Compiled;
  private items: Array<Stored<T>> = [];
  private revision = -1;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: DefinitionStore,
    private readonly kind: DefinitionKind,
    private readonly compile: (items: ReadonlyArray<Stored<T>>) => Compiled,
    private readonly logger: Logger,
  ) {
    this.compiled = compile([]);
  }

  /** Loads them, then re-checks the revision every `refreshMs`. */
  async start(refreshMs: number): Promise<void> {
    await this.refresh(true);
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  list(): ReadonlyArray<Stored<T>> {
    return this.items;
  }

  get(id: string): Stored<T> | undefined {
    return this.items.find((s) => s.id === id);
  }

  async put(id: string, body: T): Promise<Stored<T>> {
    const stored = await this.store.put(this.kind, id, body);
    const item: Stored<T> = { ...body, id, updated_at: stored.updatedAt };
    await this.apply((items) => [...items.filter((x) => x.id !== id), item]);
    return item;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.store.delete(this.kind, id);
    if (deleted) await this.apply((items) => items.filter((x) => x.id !== id));
    return deleted;
  }

  /**
   * This process's own write, in force at once without reading everything back (the next poll
   * sees the revision move and reloads once, taking in other processes' writes too). Queued
   * behind any running load, so a load that began before the write cannot undo it.
   */
  private apply(change: (items: ReadonlyArray<Stored<T>>) => Array<Stored<T>>): Promise<void> {
    const next = this.chain.then(() => {
      const items = change(this.items).sort((a, b) => a.id.localeCompare(b.id));
      this.compiled = this.compile(items);
      this.items = items;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Reloads when the revision moved (or `force`); loads and this process's writes apply one after another. */
  refresh(force = false): Promise<void> {
    const next = this.chain.then(() => this.load(force));
    this.chain = next.catch(() => undefined);
    return next;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async load(force: boolean): Promise<void> {
    try {
      const revision = await this.store.revision(this.kind);
      if (!force && revision === this.revision) return;
      const items = (await this.store.list(this.kind)).map((d): Stored<T> => ({ ...(d.body as T), id: d.id, updated_at: d.updatedAt }));
      items.sort((a, b) => a.id.localeCompare(b.id));
      this.compiled = this.compile(items);
      this.items = items;
      this.revision = revision;
    } catch (error) {
      if (force) throw error;
      this.logger.warn({ err: error, kind: this.kind }, 'definitions could not be reloaded; the previous ones stay in force');
    }
  }
}
