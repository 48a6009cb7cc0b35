import type { Coupon } from '../domain/coupon.ts';
import type { Logger } from '../log.ts';
import type { VectorStore } from '../store/vector-store.ts';
import { lexicalText } from '../text/coupon-text.ts';
import { SpellingCorrector } from '../text/spelling.ts';
import { SuggestionIndex } from './suggestions.ts';
import type { EventStore } from '../events/event-store.ts';

/** How many of the newest searches seed autocomplete's past queries at start-up. */
const RECENT_SEARCHES = 50_000;

/**
 * The words of the catalogue, for typo tolerance: built from the store at start-up, extended at
 * once by every coupon this process writes, and rebuilt in the background when the store's count
 * moved by more than this process wrote (coupons written through another API process). Until the
 * first build finishes, only this process's writes are known.
 */
export class CatalogueVocabulary {
  /** Empty until the first build; coupons written here count at once. */
  corrector: SpellingCorrector;
  /** Autocomplete over the same coupons, and the queries served that found some. */
  suggestions = new SuggestionIndex();
  private timer: NodeJS.Timeout | undefined;
  private builtAtCount = -1;
  /** Coupons this process wrote since the last build: a count that moved by no more needs no rebuild. */
  private addedSinceBuild = 0;
  private building: Promise<void> | undefined;

  constructor(
    private readonly store: VectorStore,
    private readonly events: EventStore | undefined,
    private readonly logger: Logger,
    /** Words that are never typos (the static embedder's English vocabulary, when it runs). */
    private readonly isWord?: (word: string) => boolean,
  ) {
    this.corrector = new SpellingCorrector(isWord);
  }

  /** Builds now (in the background) and then re-checks the store every `refreshMs`. */
  start(refreshMs: number): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
  }

  add(coupons: readonly Coupon[]): void {
    for (const c of coupons) {
      this.corrector.addText(lexicalText(c));
      this.suggestions.addCoupon(c);
    }
    this.addedSinceBuild += coupons.length;
  }

  /** A served search and how many coupons it found (kept across rebuilds; the served-list log seeds them at start). */
  addQuery(text: string, total: number): void {
    this.suggestions.addQuery(text, total);
  }

  /** Rebuilds when the store holds coupons this process did not write; one build at a time. */
  refresh(): Promise<void> {
    this.building ??= (async () => {
      try {
        const { count } = await this.store.stats();
        // Only writes by other processes call for a rebuild: this one's are in already.
        if (this.builtAtCount >= 0 && Math.abs(count - this.builtAtCount) <= this.addedSinceBuild) return;
        const addedBefore = this.addedSinceBuild;
        const next = new SpellingCorrector(this.isWord);
        const suggestions = new SuggestionIndex();
        const take = (c: Coupon) => {
          next.addText(lexicalText(c));
          suggestions.addCoupon(c);
        };
        for await (const rows of this.store.scan(5000)) for (const { coupon } of rows) take(coupon);
        if (this.builtAtCount < 0 && this.events) await this.readServedQueries(suggestions);
        // After the last await, the current vocabulary's words join in: this process's writes not
        // yet in the store, and the ones made during the scan, are not lost. (Words of deleted
        // coupons therefore stay until a restart: a correction towards them finds nothing more.)
        next.absorb(this.corrector);
        suggestions.absorb(this.suggestions);
        this.corrector = next;
        this.suggestions = suggestions;
        this.builtAtCount = count;
        this.addedSinceBuild -= addedBefore;
      } catch (error) {
        this.logger.warn({ err: error }, 'the catalogue vocabulary could not be rebuilt; typo tolerance keeps the previous one');
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }

  /**
   * Past searches that found coupons, once: the newest RECENT_SEARCHES of the last 30 days, not the
   * whole log (a month of a busy site's lists is hundreds of megabytes to parse at start-up).
   */
  private async readServedQueries(into: SuggestionIndex): Promise<void> {
    const since = new Date(Date.now() - 30 * 86_400_000);
    const newestFirst = await this.events!.recentSearches({ since, limit: RECENT_SEARCHES });
    // Oldest first, so each query keeps the results count of its latest search.
    for (const { query, results } of newestFirst.reverse()) into.addQuery(query, results);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
