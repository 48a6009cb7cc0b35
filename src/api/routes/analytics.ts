import { z } from 'zod';
import { withRates } from '../../events/analytics.ts';
import { experimentReport } from '../../events/experiment.ts';
import { parseQuery } from '../params.ts';
import { COMMON_ERRORS, errorResponses, jsonBody, queryParam as q, type RouteSpec } from '../route.ts';

const DAY_MS = 86_400_000;
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' });

/** The window and size of every analytics answer: the last 7 days by default. */
export const analyticsQuerySchema = z
  .strictObject({
    from: isoDate.optional(),
    to: isoDate.optional(),
    /** @defaultValue 20 */
    limit: z.coerce.number().int().min(1).max(500).default(20),
    /** @defaultValue 'clicks' */
    by: z.enum(['impressions', 'clicks', 'redemptions']).default('clicks'),
  })
  .transform((p, ctx) => {
    const to = p.to ? new Date(p.to) : new Date();
    const from = p.from ? new Date(p.from) : new Date(to.getTime() - 7 * DAY_MS);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    return { from, to, limit: p.limit, by: p.by };
  });

const params = [
  q('from', { type: 'string', format: 'date-time' }, 'start of the window (default: 7 days before `to`)'),
  q('to', { type: 'string', format: 'date-time' }, 'end of the window, exclusive (default: now)'),
  q('limit', { type: 'integer', minimum: 1, maximum: 500, default: 20 }, 'rows per list'),
  q('by', { type: 'string', enum: ['impressions', 'clicks', 'redemptions'], default: 'clicks' }, 'order of the coupon and merchant lists'),
  q('api_key', { type: 'string' }, 'an API key with the analytics scope, for the dashboard page'),
];

type Report = ReturnType<typeof withRates>;

/** One route per view of the same report; `summary` answers all of it. */
const VIEWS: Array<[path: string, summary: string, pick: (r: Report) => unknown]> = [
  ['summary', 'Every analytics list for the window', (r) => r],
  ['queries', 'Top queries, with searches and click, save and redeem rates', (r) => ({ searches: r.searches, queries: r.queries })],
  ['no-results', 'Queries that found nothing', (r) => ({ no_results: r.no_results })],
  ['no-clicks', 'Queries that found coupons and got no click', (r) => ({ no_clicks: r.no_clicks })],
  ['coupons', 'Top coupons by impressions, clicks or redemptions', (r) => ({ coupons: r.coupons })],
  ['merchants', 'Top merchants by impressions, clicks or redemptions', (r) => ({ merchants: r.merchants })],
  ['positions', 'Click-through rate by result position (the position bias)', (r) => ({ positions: r.positions })],
];

/**
 * Search analytics (scope `analytics`) from the served-list log and the events: figures defined in
 * `events/analytics.ts`, computed in SQL on PostgreSQL and in process on the file store.
 */
const viewRoutes: RouteSpec[] = VIEWS.map(([path, summary, pick]) => ({
  method: 'GET',
  path: `/v1/analytics/${path}`,
  scope: 'analytics',
  summary,
  params,
  responses: { 200: { description: summary, ...jsonBody({ type: 'object' }) }, ...errorResponses(400, ...COMMON_ERRORS) },
  async handle(ctx, { engine }) {
    const options = parseQuery(analyticsQuerySchema, ctx.query);
    const report = withRates(await engine.events.analytics(options));
    ctx.body = { from: options.from.toISOString(), to: options.to.toISOString(), ...(pick(report) as object) };
  },
}));

/** The ranker experiment (RANKER_EXPERIMENT): wins, losses and ties per arm from the interleaved lists' clicks and redemptions. */
const experimentRoute: RouteSpec = {
  method: 'GET',
  path: '/v1/analytics/experiment',
  scope: 'analytics',
  summary: 'The interleaving experiment between two rankers: wins, losses, ties and a sign test',
  params,
  responses: {
    200: { description: 'the experiment, or a message when none ran in the window', ...jsonBody({ type: 'object' }) },
    ...errorResponses(400, ...COMMON_ERRORS),
  },
  async handle(ctx, { engine }) {
    const options = parseQuery(analyticsQuerySchema, ctx.query);
    const report = await experimentReport(engine.events.servedOutcomes({ since: options.from }), options);
    const window = { from: options.from.toISOString(), to: options.to.toISOString() };
    ctx.body = report ? { ...window, ...report } : { ...window, message: 'no ranker experiment ran in this window (set RANKER_EXPERIMENT=<dir-a>,<dir-b>)' };
  },
};

export const analyticsRoutes: RouteSpec[] = [...viewRoutes, experimentRoute];
