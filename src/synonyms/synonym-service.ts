import type { DefinitionStore } from '../definitions/definition-store.ts';
import type { Logger } from '../log.ts';
import type { SynonymSet, SynonymSetBody } from './synonym-set.ts';
import { Thesaurus } from './thesaurus.ts';

/**
 * The synonym sets in force: persisted in the definition store, compiled into a `Thesaurus` that
 * search reads without waiting. A write here takes effect at once in this process; other
 * processes notice the store's revision change within `refreshMs` and reload. No reindex: the
 * sets expand queries, not documents.
 */
export class SynonymService {
  thesaurus: Thesaurus = Thesaurus.empty;
  private sets: SynonymSet[] = [];
  private revision = -1;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: DefinitionStore,
    private readonly logger: Logger,
  ) {}

  /** Loads the sets, then re-checks the revision every `refreshMs`. */
  async start(refreshMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  list(): SynonymSet[] {
    return this.sets;
  }

  get(id: string): SynonymSet | undefined {
    return this.sets.find((s) => s.id === id);
  }

  async put(id: string, body: SynonymSetBody): Promise<SynonymSet> {
    const stored = await this.store.put('synonyms', id, body);
    await this.refresh(true);
    return { id, ...body, updated_at: stored.updatedAt };
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.store.delete('synonyms', id);
    if (deleted) await this.refresh(true);
    return deleted;
  }

  /** Reloads when the revision moved (or `force`); loads run one after another, so a forced one sees the write before it. */
  refresh(force = false): Promise<void> {
    const next = this.chain.then(() => this.load(force));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async load(force: boolean): Promise<void> {
    try {
      const revision = await this.store.revision('synonyms');
      if (!force && revision === this.revision) return;
      const sets = (await this.store.list('synonyms')).map((d): SynonymSet => ({ id: d.id, ...(d.body as SynonymSetBody), updated_at: d.updatedAt }));
      sets.sort((a, b) => a.id.localeCompare(b.id));
      this.sets = sets;
      this.thesaurus = new Thesaurus(sets);
      this.revision = revision;
    } catch (error) {
      if (force) throw error;
      this.logger.warn({ err: error }, 'synonym sets could not be reloaded; the previous ones stay in force');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
