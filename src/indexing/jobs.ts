import { createHash } from 'node:crypto';
import type { Coupon } from '../domain/coupon.ts';

/** The indexing jobs. Each is idempotent: running one twice leaves the store as running it once. */
export type IndexJob = (
  | { type: 'upsert'; coupon: Coupon }
  | { type: 'delete'; id: string; requestedAt: number }
  | { type: 'reindex'; requestedAt: number }
  /** Fold newly stored events into the counters (each event exactly once, see EventStore). */
  | { type: 'counters'; eventIds: string[] }
) & {
  /** The HTTP request that queued the job, for following one request through the logs. */
  requestId?: string | undefined;
};

export type UpsertOutcome = 'written' | 'stale';

/**
 * Deterministic job ids make enqueueing idempotent: the same coupon version enqueued twice is one
 * job (BullMQ ignores an add whose id exists; the inline queue does the same).
 */
export function jobIdOf(job: IndexJob): string {
  switch (job.type) {
    case 'upsert':
      return `upsert-${job.coupon.id}-v${job.coupon.version}`;
    case 'delete':
      return `delete-${job.id}-${job.requestedAt}`;
    case 'reindex':
      return `reindex-${job.requestedAt}`;
    case 'counters':
      return `counters-${createHash('sha1').update(job.eventIds.join('\n')).digest('hex').slice(0, 16)}`;
  }
}
