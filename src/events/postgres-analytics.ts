import type { AnalyticsCounts, AnalyticsOptions } from './event-store.ts';
import { MAX_POSITION } from './analytics.ts';

/**
 * Search analytics in one SQL statement over the served-list and event tables, to the figures
 * `analytics.ts` defines (and computes in process for the file store; one contract suite holds
 * both to a brute-force count). Ties are broken by key in byte order (`COLLATE "C"`), as in
 * JavaScript, so both adapters list equal counts in the same order.
 */
export function analyticsQuery(tables: { served: string; events: string }, options: AnalyticsOptions): { sql: string; values: unknown[] } {
  const order = ({ impressions: 'impressions', clicks: 'clicks', redemptions: 'redemptions' } as const)[options.by];
  const sql = `
    WITH lists AS (
      SELECT query_id, surface, lower(btrim(regexp_replace(query, '\\s+', ' ', 'g'))) AS q, items, jsonb_array_length(items) AS n,
             to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
      FROM ${tables.served} WHERE ts >= $1 AND ts < $2),
    shown AS (
      SELECT l.query_id, l.surface, i->>'couponId' AS coupon_id, i->>'merchantId' AS merchant_id, (i->>'position')::int AS position
      FROM lists l CROSS JOIN LATERAL jsonb_array_elements(l.items) i),
    acted AS (
      SELECT s.query_id, s.surface, s.coupon_id, s.merchant_id, s.position,
             coalesce(bool_or(e.type = 'click'), false) AS clicked,
             coalesce(bool_or(e.type = 'save'), false) AS saved,
             coalesce(bool_or(e.type = 'redeem'), false) AS redeemed
      FROM shown s LEFT JOIN ${tables.events} e ON e.query_id = s.query_id AND e.coupon_id = s.coupon_id AND e.type IN ('click', 'save', 'redeem')
      GROUP BY s.query_id, s.surface, s.coupon_id, s.merchant_id, s.position),
    per_list AS (
      SELECT l.query_id, l.q, l.n, l.day,
             coalesce(bool_or(a.clicked), false) AS clicked, coalesce(bool_or(a.saved), false) AS saved, coalesce(bool_or(a.redeemed), false) AS redeemed
      FROM lists l LEFT JOIN acted a ON a.query_id = l.query_id
      WHERE l.surface = 'search' GROUP BY l.query_id, l.q, l.n, l.day),
    queries AS (
      SELECT q, count(*)::int AS searches, (count(*) FILTER (WHERE clicked))::int AS clicked, (count(*) FILTER (WHERE saved))::int AS saved,
             (count(*) FILTER (WHERE redeemed))::int AS redeemed, (count(*) FILTER (WHERE n = 0))::int AS empty
      FROM per_list GROUP BY q),
    coupons AS (
      SELECT coupon_id, count(*)::int AS impressions, (count(*) FILTER (WHERE clicked))::int AS clicks,
             (count(*) FILTER (WHERE saved))::int AS saves, (count(*) FILTER (WHERE redeemed))::int AS redemptions
      FROM acted GROUP BY coupon_id),
    merchants AS (
      SELECT merchant_id, count(*)::int AS impressions, (count(*) FILTER (WHERE clicked))::int AS clicks,
             (count(*) FILTER (WHERE saved))::int AS saves, (count(*) FILTER (WHERE redeemed))::int AS redemptions
      FROM acted WHERE merchant_id IS NOT NULL GROUP BY merchant_id)
    SELECT json_build_object(
      'searches', (SELECT count(*) FROM per_list),
      'queries', (SELECT coalesce(json_agg(json_build_object('query', q, 'searches', searches, 'clicked', clicked, 'saved', saved, 'redeemed', redeemed)), '[]')
                  FROM (SELECT * FROM queries ORDER BY searches DESC, q COLLATE "C" LIMIT $3) x),
      'noResults', (SELECT coalesce(json_agg(json_build_object('query', q, 'searches', searches)), '[]')
                    FROM (SELECT * FROM queries WHERE empty = searches ORDER BY searches DESC, q COLLATE "C" LIMIT $3) x),
      'noClicks', (SELECT coalesce(json_agg(json_build_object('query', q, 'searches', searches)), '[]')
                   FROM (SELECT * FROM queries WHERE empty = 0 AND clicked = 0 ORDER BY searches DESC, q COLLATE "C" LIMIT $3) x),
      'coupons', (SELECT coalesce(json_agg(json_build_object('couponId', coupon_id, 'impressions', impressions, 'clicks', clicks, 'saves', saves, 'redemptions', redemptions)), '[]')
                  FROM (SELECT * FROM coupons ORDER BY ${order} DESC, coupon_id COLLATE "C" LIMIT $3) x),
      'merchants', (SELECT coalesce(json_agg(json_build_object('merchantId', merchant_id, 'impressions', impressions, 'clicks', clicks, 'saves', saves, 'redemptions', redemptions)), '[]')
                    FROM (SELECT * FROM merchants ORDER BY ${order} DESC, merchant_id COLLATE "C" LIMIT $3) x),
      'positions', (SELECT coalesce(json_agg(json_build_object('position', position, 'impressions', impressions, 'clicks', clicks) ORDER BY position), '[]')
                    FROM (SELECT position, count(*)::int AS impressions, (count(*) FILTER (WHERE clicked))::int AS clicks
                          FROM acted WHERE surface = 'search' AND position < ${MAX_POSITION} GROUP BY position) x),
      'days', (SELECT coalesce(json_agg(json_build_object('day', day, 'searches', searches, 'clicked', clicked) ORDER BY day), '[]')
               FROM (SELECT day, count(*)::int AS searches, (count(*) FILTER (WHERE clicked))::int AS clicked FROM per_list GROUP BY day) x)
    ) AS report`;
  return { sql, values: [options.from, options.to, options.limit] };
}

/** The statement's one row, as counts. */
export function analyticsFromRow(row: { report: AnalyticsCounts & { searches: number | string } }): AnalyticsCounts {
  return { ...row.report, searches: Number(row.report.searches) };
}
