import pg from 'pg';
import type { EventType, RecordedEvent } from '../domain/event.ts';
import { createSchema, postgresError } from '../util/postgres.ts';
import { analyticsFromRow, analyticsQuery } from './postgres-analytics.ts';
import {
  decay,
  emptyCounts,
  EXCLUDING,
  HALF_LIFE_DAYS,
  POSITIVE,
  RECENT_EVENTS,
  type AnalyticsCounts,
  type AnalyticsOptions,
  type AppendResult,
  type CountResult,
  type CouponFacts,
  type CouponStats,
  type EventStore,
  type PositiveEvent,
  type PositiveEventOptions,
  type RecentSearch,
  type RecentSearchOptions,
  type ServedList,
  type ServedOutcome,
  type ServedOutcomeOptions,
  type UserAffinity,
} from './event-store.ts';

export interface PostgresEventStoreOptions {
  url: string;
  /** Prefix of the tables (tests use a unique one). @defaultValue 'cs_' */
  tablePrefix?: string;
}

/**
 * Events in PostgreSQL: one table keyed by event_id (a replay is an `ON CONFLICT DO NOTHING`), a
 * `counted` flag so the counters job folds each event in exactly once, and counter tables holding
 * exponentially decayed sums (value, as-of time) that are decayed again when read.
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly t: { events: string; counters: string; affinity: string; exclusions: string; served: string };

  constructor(options: PostgresEventStoreOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 5, connectionTimeoutMillis: 3000 });
    this.pool.on('error', () => undefined); // surfaced on the next query
    const p = options.tablePrefix ?? 'cs_';
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(p)) throw new Error(`tablePrefix: must be a lower-case SQL identifier prefix, got '${p}'`);
    this.t = {
      events: `${p}events`,
      counters: `${p}coupon_counters`,
      affinity: `${p}user_affinity`,
      exclusions: `${p}user_exclusions`,
      served: `${p}served_lists`,
    };
  }

  async open(): Promise<void> {
    const { events, counters, affinity, exclusions, served } = this.t;
    await createSchema(
      this.pool,
      `${this.t.events}:schema`,
      `
      CREATE TABLE IF NOT EXISTS ${events} (
        event_id text PRIMARY KEY, user_id text NOT NULL, coupon_id text NOT NULL, type text NOT NULL,
        ts timestamptz NOT NULL, query_id text, position integer, context jsonb,
        received_at timestamptz NOT NULL DEFAULT now(), counted boolean NOT NULL DEFAULT false);
      ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS key_id text;
      CREATE INDEX IF NOT EXISTS ${events}_user_ts ON ${events} (user_id, ts DESC);
      CREATE INDEX IF NOT EXISTS ${events}_uncounted ON ${events} (event_id) WHERE NOT counted;
      CREATE INDEX IF NOT EXISTS ${events}_query ON ${events} (query_id) WHERE query_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${served} (
        query_id text PRIMARY KEY, ts timestamptz NOT NULL, surface text NOT NULL, query text NOT NULL, user_id text,
        scorer text NOT NULL, idf text NOT NULL, features_version integer NOT NULL, items jsonb NOT NULL);
      CREATE INDEX IF NOT EXISTS ${served}_ts ON ${served} (ts, query_id);
      ALTER TABLE ${served} ADD COLUMN IF NOT EXISTS experiment jsonb;
      CREATE TABLE IF NOT EXISTS ${counters} (coupon_id text NOT NULL, type text NOT NULL, value double precision NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (coupon_id, type));
      CREATE TABLE IF NOT EXISTS ${affinity} (user_id text NOT NULL, kind text NOT NULL, key text NOT NULL, value double precision NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (user_id, kind, key));
      CREATE TABLE IF NOT EXISTS ${exclusions} (user_id text NOT NULL, coupon_id text NOT NULL, PRIMARY KEY (user_id, coupon_id));`,
      'event store',
    );
  }

  async append(events: readonly RecordedEvent[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: [], duplicates: [] };
    const cols = ['event_id', 'user_id', 'coupon_id', 'type', 'ts', 'query_id', 'position', 'context', 'key_id'];
    const values: unknown[] = [];
    const rows = events.map((e, i) => {
      const context = e.context ? JSON.stringify(e.context) : null;
      values.push(e.event_id, e.user_id, e.coupon_id, e.type, e.ts, e.query_id ?? null, e.position ?? null, context, e.key_id ?? null);
      return `(${cols.map((_, j) => `$${i * cols.length + j + 1}`).join(', ')})`;
    });
    const res = await this.query(
      `INSERT INTO ${this.t.events} (${cols.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      values,
    );
    const inserted = new Set(res.rows.map((r) => r.event_id as string));
    return { inserted: [...inserted], duplicates: events.map((e) => e.event_id).filter((id) => !inserted.has(id)) };
  }

  async applyCounters(eventIds: readonly string[], facts: CouponFacts): Promise<CountResult> {
    if (eventIds.length === 0) return { counted: 0, users: [] };
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      // Claiming the rows and updating the counters commit together: each event counts once.
      const claimed = await client.query(
        `UPDATE ${this.t.events} SET counted = true WHERE event_id = ANY($1) AND NOT counted RETURNING user_id, coupon_id, type, ts`,
        [eventIds],
      );
      const known = await facts([...new Set(claimed.rows.map((r) => r.coupon_id as string))]);
      const halfLife = HALF_LIFE_DAYS * 86_400;
      const bump = (table: string, keyCols: string[]) => `
        INSERT INTO ${table} (${keyCols.join(', ')}, value, at) VALUES (${keyCols.map((_, i) => `$${i + 1}`).join(', ')}, $${keyCols.length + 2}, $${keyCols.length + 1})
        ON CONFLICT (${keyCols.join(', ')}) DO UPDATE SET
          value = CASE WHEN EXCLUDED.at >= ${table}.at
            THEN ${table}.value * power(0.5, extract(epoch from EXCLUDED.at - ${table}.at) / ${halfLife}) + EXCLUDED.value
            ELSE ${table}.value + EXCLUDED.value * power(0.5, extract(epoch from ${table}.at - EXCLUDED.at) / ${halfLife}) END,
          at = GREATEST(${table}.at, EXCLUDED.at)`;
      for (const e of claimed.rows as Array<{ user_id: string; coupon_id: string; type: string; ts: Date }>) {
        await client.query(bump(this.t.counters, ['coupon_id', 'type']), [e.coupon_id, e.type, e.ts, 1]);
        if (EXCLUDING.has(e.type as never))
          await client.query(`INSERT INTO ${this.t.exclusions} VALUES ($1, $2) ON CONFLICT DO NOTHING`, [e.user_id, e.coupon_id]);
        const f = known.get(e.coupon_id);
        if (f && POSITIVE.has(e.type as never)) {
          for (const c of f.categories) await client.query(bump(this.t.affinity, ['user_id', 'kind', 'key']), [e.user_id, 'category', c, e.ts, 1]);
          await client.query(bump(this.t.affinity, ['user_id', 'kind', 'key']), [e.user_id, 'merchant', f.merchantId, e.ts, 1]);
        }
      }
      await client.query('COMMIT');
      const users = new Set(claimed.rows.flatMap((r) => (POSITIVE.has(r.type) ? [r.user_id as string] : [])));
      return { counted: claimed.rowCount ?? 0, users: [...users] };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw postgresError(error, 'event store');
    } finally {
      client.release();
    }
  }

  async couponStats(couponIds: readonly string[], at = new Date()): Promise<Map<string, CouponStats>> {
    const out = new Map<string, CouponStats>();
    if (couponIds.length === 0) return out;
    const res = await this.query(`SELECT coupon_id, type, value, at FROM ${this.t.counters} WHERE coupon_id = ANY($1)`, [couponIds]);
    for (const r of res.rows as Array<{ coupon_id: string; type: string; value: number; at: Date }>) {
      const s = out.get(r.coupon_id) ?? { couponId: r.coupon_id, counts: emptyCounts() };
      s.counts[r.type as keyof typeof s.counts] = r.value * decay(r.at.getTime(), at.getTime());
      out.set(r.coupon_id, s);
    }
    return out;
  }

  async userAffinity(userId: string, at = new Date()): Promise<UserAffinity> {
    const [aff, excl, recent, recentEvents] = await Promise.all([
      this.query(`SELECT kind, key, value, at FROM ${this.t.affinity} WHERE user_id = $1`, [userId]),
      this.query(`SELECT coupon_id FROM ${this.t.exclusions} WHERE user_id = $1`, [userId]),
      this.query(
        `SELECT coupon_id, max(ts) AS last FROM ${this.t.events} WHERE user_id = $1 AND type = ANY($2) GROUP BY coupon_id ORDER BY last DESC LIMIT 20`,
        [userId, [...POSITIVE]],
      ),
      this.query(`SELECT coupon_id, type, ts FROM ${this.t.events} WHERE user_id = $1 AND type = ANY($2) ORDER BY ts DESC LIMIT ${RECENT_EVENTS}`, [
        userId,
        [...POSITIVE],
      ]),
    ]);
    const result: UserAffinity = {
      userId,
      categories: {},
      merchants: {},
      excluded: excl.rows.map((r) => r.coupon_id),
      recent: recent.rows.map((r) => r.coupon_id),
      recentEvents: (recentEvents.rows as Array<{ coupon_id: string; type: EventType; ts: Date }>).map((r) => ({
        couponId: r.coupon_id,
        type: r.type,
        ts: r.ts.toISOString(),
      })),
    };
    for (const r of aff.rows as Array<{ kind: string; key: string; value: number; at: Date }>) {
      (r.kind === 'category' ? result.categories : result.merchants)[r.key] = r.value * decay(r.at.getTime(), at.getTime());
    }
    return result;
  }

  async popular(limit: number, at = new Date()): Promise<Array<{ couponId: string; score: number }>> {
    const halfLife = HALF_LIFE_DAYS * 86_400;
    const weight = `CASE type WHEN 'redeem' THEN 2 WHEN 'click' THEN 1 WHEN 'save' THEN 1 ELSE 0 END`;
    const res = await this.query(
      `SELECT coupon_id, sum(${weight} * value * power(0.5, greatest(0, extract(epoch from $1::timestamptz - at)) / ${halfLife})) AS score
       FROM ${this.t.counters} GROUP BY coupon_id HAVING sum(${weight} * value) > 0 ORDER BY score DESC, coupon_id LIMIT $2`,
      [at, limit],
    );
    return res.rows.map((r) => ({ couponId: r.coupon_id, score: Number(r.score) }));
  }

  async logServed(lists: readonly ServedList[]): Promise<void> {
    if (lists.length === 0) return;
    const cols = ['query_id', 'ts', 'surface', 'query', 'user_id', 'scorer', 'idf', 'features_version', 'items', 'experiment'];
    const values: unknown[] = [];
    const rows = lists.map((l, i) => {
      values.push(
        l.queryId,
        l.ts,
        l.surface,
        l.query,
        l.userId ?? null,
        l.scorer,
        l.idf,
        l.featuresVersion,
        JSON.stringify(l.items),
        l.experiment ? JSON.stringify(l.experiment) : null,
      );
      return `(${cols.map((_, j) => `$${i * cols.length + j + 1}`).join(', ')})`;
    });
    await this.query(`INSERT INTO ${this.t.served} (${cols.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (query_id) DO NOTHING`, values);
  }

  async analytics(options: AnalyticsOptions): Promise<AnalyticsCounts> {
    const { sql, values } = analyticsQuery({ served: this.t.served, events: this.t.events }, options);
    return analyticsFromRow((await this.query(sql, values)).rows[0]);
  }

  async *positiveEvents(options: PositiveEventOptions = {}): AsyncIterable<PositiveEvent> {
    let after: [Date, string] = [options.since ?? new Date(0), ''];
    // Keyset pages in (ts, event_id) order: a large event table is never held in one result.
    for (;;) {
      const res = await this.query(
        `SELECT event_id, user_id, coupon_id, type, ts FROM ${this.t.events}
         WHERE type = ANY($3) AND (ts, event_id) > ($1, $2) ORDER BY ts, event_id LIMIT 5000`,
        [after[0], after[1], [...POSITIVE]],
      );
      for (const r of res.rows) yield { userId: r.user_id, couponId: r.coupon_id, type: r.type, ts: (r.ts as Date).toISOString() };
      if (res.rows.length < 5000) return;
      const last = res.rows.at(-1)!;
      after = [last.ts, last.event_id];
    }
  }

  async recentSearches({ since, limit }: RecentSearchOptions): Promise<RecentSearch[]> {
    const res = await this.query(
      `SELECT query, jsonb_array_length(items) AS results FROM ${this.t.served}
       WHERE surface = 'search' AND ts >= $1 ORDER BY ts DESC, query_id DESC LIMIT $2`,
      [since, limit],
    );
    return res.rows.map((r) => ({ query: r.query as string, results: Number(r.results) }));
  }

  /** Keyset-paginated by (ts, query_id), each page joined with its outcome events in SQL. */
  async *servedOutcomes(options: ServedOutcomeOptions = {}): AsyncIterable<ServedOutcome> {
    let after: [Date, string] = [options.since ?? new Date(0), ''];
    const engaged = options.engagedOnly
      ? `AND EXISTS (SELECT 1 FROM ${this.t.events} e WHERE e.query_id = s.query_id AND e.type = ANY($3) AND (e.key_id IS NULL OR NOT e.key_id = ANY($4)))`
      : '';
    for (;;) {
      const res = await this.query(
        `SELECT s.*, (SELECT json_agg(json_build_object('coupon_id', e.coupon_id, 'type', e.type)) FROM ${this.t.events} e
                      WHERE e.query_id = s.query_id AND e.type = ANY($3) AND (e.key_id IS NULL OR NOT e.key_id = ANY($4))) AS outcomes
         FROM ${this.t.served} s WHERE (s.ts, s.query_id) > ($1, $2) ${engaged} ORDER BY s.ts, s.query_id LIMIT 500`,
        [after[0], after[1], [...POSITIVE], [...(options.excludeKeys ?? [])]],
      );
      for (const r of res.rows) {
        const outcomes: ServedOutcome['outcomes'] = {};
        for (const o of (r.outcomes ?? []) as Array<{ coupon_id: string; type: ServedOutcome['outcomes'][string][number] }>)
          (outcomes[o.coupon_id] ??= []).push(o.type);
        yield {
          queryId: r.query_id,
          ts: (r.ts as Date).toISOString(),
          surface: r.surface,
          query: r.query,
          ...(r.user_id && { userId: r.user_id }),
          scorer: r.scorer,
          idf: r.idf,
          featuresVersion: r.features_version,
          items: r.items,
          ...(r.experiment && { experiment: r.experiment }),
          outcomes,
        };
      }
      if (res.rows.length < 500) return;
      const last = res.rows.at(-1)!;
      after = [last.ts, last.query_id];
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async count(): Promise<number> {
    return Number((await this.query(`SELECT count(*) AS n FROM ${this.t.events}`)).rows[0].n);
  }

  /** Drops this store's tables (tests). */
  async drop(): Promise<void> {
    await this.query(`DROP TABLE IF EXISTS ${Object.values(this.t).join(', ')}`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw postgresError(error, 'event store');
    }
  }

  private async query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, values);
    } catch (error) {
      throw postgresError(error, 'event store');
    }
  }
}
