import { ReindexRequiredError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { describeSpace, sameSpace, type VectorSpace, type VectorStore } from './vector-store.ts';

/**
 * The one place that knows whether the stored vectors and the running embedder share a vector
 * space. Search refuses to mix spaces (every query would be compared with vectors of another
 * model), and so does indexing (a new coupon would be written in the wrong space); both ask this
 * guard. A reindex — in this process or another — brings the two back together.
 */
export class VectorSpaceGuard {
  private message: string | undefined;

  constructor(
    /** The running embedder's space. */
    readonly space: VectorSpace,
    private stored: VectorSpace,
    private readonly logger: Logger,
  ) {
    this.update();
  }

  /** Throws ReindexRequiredError while the spaces differ; first re-reads the store's space (another process may have rebuilt it). */
  async check(store: VectorStore): Promise<void> {
    if (!this.message) return;
    const stored = (await store.stats()).space;
    if (stored) this.markReindexed(stored);
    this.assertSame();
  }

  /** The same check without asking the store (on the write path, where a stale answer only delays a job). */
  assertSame(): void {
    if (this.message) throw new ReindexRequiredError(this.message);
  }

  /** A reindex committed vectors in `space`. */
  markReindexed(space: VectorSpace): void {
    this.stored = space;
    this.update();
  }

  private update(): void {
    if (sameSpace(this.stored, this.space)) {
      this.message = undefined;
      return;
    }
    const message =
      `the store holds vectors from ${describeSpace(this.stored)} but the embedder is ${describeSpace(this.space)}; ` +
      'search and indexing are off until `npm run reindex` (or POST /v1/reindex) rebuilds the vectors';
    if (message !== this.message) this.logger.error(message);
    this.message = message;
  }
}
