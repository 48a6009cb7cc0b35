import type { EventStore, ServedList } from '../events/event-store.ts';
import type { Logger } from '../log.ts';
import type { SearchContext } from '../search/context.ts';
import { RANKING_FEATURES_VERSION } from './features.ts';

/** A served list as buffered: each item's feature row is the ranking stage's own, rounded only when written. */
type PendingList = Omit<ServedList, 'items'> & { items: Array<Omit<ServedList['items'][number], 'features'> & { features: Float32Array | undefined }> };

/**
 * Buffers served result lists and writes them to the event store in batches, off the request
 * path: a search never waits for, or fails on, its log. A full buffer (the store down for long)
 * drops the oldest lists and says so once. The buffer outlives several young-generation
 * collections, so it keeps each feature row as the one typed array the ranking made; the 44
 * rounded numbers a written list holds are made when it is written.
 */
export class ServedListLog {
  private buffer: PendingList[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly events: EventStore,
    private readonly logger: Logger,
    private readonly options: { idf: string; flushMs?: number; maxBuffered?: number } = { idf: 'uniform' },
  ) {}

  /** Records the page a pipeline run served (its candidates, in served order, with their features). */
  record(ctx: SearchContext): void {
    const { request } = ctx;
    const { surface } = request;
    // An empty page is logged only when the search found nothing at all (the no-results analytics);
    // an empty later page or feed says nothing.
    if (ctx.candidates.length === 0 && (request.surface !== 'search' || request.offset > 0 || ctx.total > 0)) return;
    this.buffer.push({
      queryId: request.queryId,
      ts: request.now.toISOString(),
      surface,
      // As searched: with typo corrections (the form analytics groups by and the features saw).
      query: request.surface === 'similar' ? request.seedId : (ctx.correctedQuery ?? request.query),
      ...(request.user && { userId: request.user.id }),
      scorer: ctx.candidates[0]?.ranked?.scorer ?? 'none',
      idf: this.options.idf,
      featuresVersion: RANKING_FEATURES_VERSION,
      ...(ctx.experiment && { experiment: ctx.experiment }),
      items: ctx.candidates.map((c, i) => ({
        couponId: c.id,
        merchantId: c.coupon.merchant.id,
        ...(c.team && { team: c.team }),
        position: request.offset + i,
        features: c.ranked?.features,
      })),
    });
    const max = this.options.maxBuffered ?? 10_000;
    if (this.buffer.length > max) {
      if (this.dropped === 0) this.logger.warn({ max }, 'served-list log is backed up: dropping the oldest lists');
      this.dropped += this.buffer.length - max;
      this.buffer.splice(0, this.buffer.length - max);
    }
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 1000).unref();
  }

  /** Writes what is buffered (also called on shutdown). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.events.logServed(batch.map(written));
      } catch (error) {
        // Put them back for the next flush; record() bounds the buffer.
        this.buffer.unshift(...batch);
        this.logger.warn({ err: error, lists: batch.length }, 'served lists not logged yet; retrying');
        this.timer ??= setTimeout(() => void this.flush(), 5000).unref();
      }
    });
    return this.flushing;
  }
}

function written(list: PendingList): ServedList {
  return {
    ...list,
    items: list.items.map((item) => ({ ...item, features: item.features ? Array.from(item.features, (x) => Math.round(x * 1e4) / 1e4) : [] })),
  };
}
