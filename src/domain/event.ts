import { z } from 'zod';
import { idSchema } from './coupon.ts';
import type { Filter } from './filter.ts';

/** What shoppers do with coupons; the recommender and the ranker learn from these. */
export const EVENT_TYPES = ['impression', 'click', 'save', 'redeem', 'dismiss'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Clock skew tolerated between a client and the server. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const MAX_EVENTS_PER_BATCH = 1000;

export const eventSchema = z.strictObject({
  event_id: idSchema,
  user_id: idSchema,
  coupon_id: idSchema,
  type: z.enum(EVENT_TYPES),
  ts: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
    .refine((t) => Date.parse(t) <= Date.now() + MAX_FUTURE_SKEW_MS, 'is in the future (more than 5 minutes ahead of the server)')
    .refine((t) => Date.parse(t) >= Date.UTC(2000, 0, 1), 'is before 2000'),
  /** The search or feed request the coupon was shown in. */
  query_id: z.string().min(1).max(128).optional(),
  /** 0-based position in that list (for position-bias correction). */
  position: z.number().int().min(0).max(10_000).optional(),
  context: z
    .record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()]))
    .refine((c) => Object.keys(c).length <= 20, 'at most 20 keys')
    .optional(),
});

export const eventBatchSchema = z.strictObject({
  events: z.array(eventSchema).min(1, 'needs at least one event').max(MAX_EVENTS_PER_BATCH, `at most ${MAX_EVENTS_PER_BATCH} events per batch`),
});

export type CouponEvent = z.output<typeof eventSchema>;

/**
 * An event as stored: what the client sent, and the id of the API key that posted it (set by the
 * server, never by the client), so training can leave out what one key posted.
 */
export type RecordedEvent = CouponEvent & { key_id?: string | undefined };

/** Who posts events: the request (for the logs) and the API key, whose id is stored with each event and whose filter bounds the coupons named. */
export interface EventSource {
  requestId?: string | undefined;
  keyId?: string | undefined;
  keyFilter?: Filter | undefined;
}
