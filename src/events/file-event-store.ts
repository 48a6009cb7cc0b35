import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CouponEvent, EventType, RecordedEvent } from '../domain/event.ts';
import { iterateJsonLinesBackwards, iterateLines, parseLine, readJsonLines } from '../util/json-lines.ts';
import { computeAnalytics } from './analytics.ts';
import {
  decay,
  emptyCounts,
  EXCLUDING,
  popularityOf,
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

type Line = { op: 'event'; e: RecordedEvent } | { op: 'counted'; id: string; facts?: { categories: string[]; merchantId: string } };

interface Decayed {
  value: number;
  at: number;
}

/** How every served list's line starts (`logServed` writes the list as the log records it). */
const QUERY_ID_PREFIX = '{"queryId":"';

/**
 * The embedded event store: an append-only JSON-lines file (fsync'd before a write is
 * acknowledged) with in-memory indexes rebuilt from it at start-up. One process at a time; use
 * PostgreSQL when several API processes accept events. Served lists go to a second file beside it
 * (`<name>-served.jsonl`), appended without fsync: they are telemetry, and they are large.
 */
export class FileEventStore implements EventStore {
  readonly kind = 'file';
  private file: FileHandle | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly events = new Map<string, RecordedEvent>();
  private readonly counted = new Set<string>();
  private readonly counters = new Map<string, Map<string, Decayed>>();
  private readonly affinity = new Map<string, { categories: Map<string, Decayed>; merchants: Map<string, Decayed> }>();
  private readonly excluded = new Map<string, Set<string>>();
  private readonly positives = new Map<string, Array<{ coupon: string; type: EventType; ts: number }>>();
  private readonly byQuery = new Map<string, Array<{ coupon: string; type: CouponEvent['type']; key?: string | undefined }>>();
  private served: FileHandle | undefined;
  private servedWrites: Promise<unknown> = Promise.resolve();
  private readonly servedPath: string;

  constructor(private readonly filePath: string) {
    this.servedPath = filePath.replace(/(\.jsonl)?$/, '-served.jsonl');
  }

  async open(): Promise<void> {
    await mkdir(path.dirname(this.filePath), { recursive: true });
    for (const line of await readJsonLines<Line>(this.filePath)) {
      if (line.op === 'event') this.index(line.e);
      else this.fold(line.id, line.facts);
    }
    this.file = await open(this.filePath, 'a');
    this.served = await open(this.servedPath, 'a');
  }

  logServed(lists: readonly ServedList[]): Promise<void> {
    if (lists.length === 0) return Promise.resolve();
    const text = lists.map((l) => JSON.stringify(l)).join('\n') + '\n';
    const write = this.servedWrites.then(() => this.served!.appendFile(text));
    this.servedWrites = write.catch(() => undefined);
    return write;
  }

  async *servedOutcomes(options: ServedOutcomeOptions = {}): AsyncIterable<ServedOutcome> {
    await this.servedWrites;
    const since = options.since?.getTime() ?? -Infinity;
    const excluded = new Set(options.excludeKeys ?? []);
    for await (const line of iterateLines(this.servedPath)) {
      // Lists are written with their query id first: one no event names is skipped unparsed.
      if (
        options.engagedOnly &&
        line.startsWith(QUERY_ID_PREFIX) &&
        !this.byQuery.has(line.slice(QUERY_ID_PREFIX.length, line.indexOf('"', QUERY_ID_PREFIX.length)))
      )
        continue;
      for (const list of parseLine<ServedList>(line)) {
        if (Date.parse(list.ts) < since) continue;
        const outcomes: Record<string, CouponEvent['type'][]> = {};
        for (const e of this.byQuery.get(list.queryId) ?? []) if (!e.key || !excluded.has(e.key)) (outcomes[e.coupon] ??= []).push(e.type);
        if (options.engagedOnly && Object.keys(outcomes).length === 0) continue;
        yield { ...list, outcomes };
      }
    }
  }

  async *positiveEvents(options: PositiveEventOptions = {}): AsyncIterable<PositiveEvent> {
    const since = options.since?.getTime() ?? -Infinity;
    const kept = [...this.events.values()].filter((e) => POSITIVE.has(e.type)).map((e) => ({ e, ms: Date.parse(e.ts) }));
    const inRange = kept.filter((k) => k.ms >= since).sort((a, b) => a.ms - b.ms || (a.e.event_id < b.e.event_id ? -1 : 1));
    for (const { e } of inRange) yield { userId: e.user_id, couponId: e.coupon_id, type: e.type, ts: e.ts };
  }

  async recentSearches({ since, limit }: RecentSearchOptions): Promise<RecentSearch[]> {
    await this.servedWrites;
    const found: RecentSearch[] = [];
    // Lists are appended as they are served, so the first one older than `since` ends the read.
    for await (const list of iterateJsonLinesBackwards<ServedList>(this.servedPath)) {
      if (found.length >= limit || Date.parse(list.ts) < since.getTime()) break;
      if (list.surface === 'search') found.push({ query: list.query, results: list.items.length });
    }
    return found;
  }

  /** In process, by the reference computation over the served-list file (one pass per call). */
  analytics(options: AnalyticsOptions): Promise<AnalyticsCounts> {
    return computeAnalytics(this.servedOutcomes({ since: options.from }), options);
  }

  async append(events: readonly RecordedEvent[]): Promise<AppendResult> {
    const fresh: RecordedEvent[] = [];
    const duplicates: string[] = [];
    const batch = new Set<string>();
    for (const e of events) {
      if (this.events.has(e.event_id) || batch.has(e.event_id)) duplicates.push(e.event_id);
      else {
        batch.add(e.event_id);
        fresh.push(e);
      }
    }
    await this.write(fresh.map((e): Line => ({ op: 'event', e })));
    for (const e of fresh) this.index(e);
    return { inserted: fresh.map((e) => e.event_id), duplicates };
  }

  async applyCounters(eventIds: readonly string[], facts: CouponFacts): Promise<CountResult> {
    const todo = [...new Set(eventIds)].filter((id) => this.events.has(id) && !this.counted.has(id));
    if (todo.length === 0) return { counted: 0, users: [] };
    const known = await facts([...new Set(todo.map((id) => this.events.get(id)!.coupon_id))]);
    const lines = todo.map((id): Line => {
      const f = known.get(this.events.get(id)!.coupon_id);
      return { op: 'counted', id, ...(f && { facts: f }) };
    });
    await this.write(lines);
    for (const l of lines) if (l.op === 'counted') this.fold(l.id, l.facts);
    const positives = todo.map((id) => this.events.get(id)!).filter((e) => POSITIVE.has(e.type));
    return { counted: todo.length, users: [...new Set(positives.map((e) => e.user_id))] };
  }

  async popular(limit: number, at = new Date()): Promise<Array<{ couponId: string; score: number }>> {
    const stats = await this.couponStats([...this.counters.keys()], at);
    return [...stats.values()]
      .map((s) => ({ couponId: s.couponId, score: popularityOf(s.counts) }))
      .filter((p) => p.score > 0)
      .sort((a, b) => b.score - a.score || a.couponId.localeCompare(b.couponId))
      .slice(0, limit);
  }

  async couponStats(couponIds: readonly string[], at = new Date()): Promise<Map<string, CouponStats>> {
    const out = new Map<string, CouponStats>();
    for (const id of couponIds) {
      const c = this.counters.get(id);
      if (!c) continue;
      const counts = emptyCounts();
      for (const [type, d] of c) counts[type as keyof typeof counts] = d.value * decay(d.at, at.getTime());
      out.set(id, { couponId: id, counts });
    }
    return out;
  }

  async userAffinity(userId: string, at = new Date()): Promise<UserAffinity> {
    const a = this.affinity.get(userId);
    const decayed = (m: Map<string, Decayed> | undefined) => Object.fromEntries([...(m ?? [])].map(([k, d]) => [k, d.value * decay(d.at, at.getTime())]));
    const newestFirst = [...(this.positives.get(userId) ?? [])].sort((x, y) => y.ts - x.ts);
    const recent = newestFirst.map((p) => p.coupon);
    return {
      userId,
      categories: decayed(a?.categories),
      merchants: decayed(a?.merchants),
      excluded: [...(this.excluded.get(userId) ?? [])],
      recent: [...new Set(recent)].slice(0, 20),
      recentEvents: newestFirst.slice(0, RECENT_EVENTS).map((p) => ({ couponId: p.coupon, type: p.type, ts: new Date(p.ts).toISOString() })),
    };
  }

  async ping(): Promise<void> {
    if (!this.file) throw new Error('the event file is not open');
  }

  async count(): Promise<number> {
    return this.events.size;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.servedWrites;
    await this.file?.close();
    await this.served?.close();
    this.file = undefined;
    this.served = undefined;
  }

  private write(lines: Line[]): Promise<unknown> {
    if (lines.length === 0) return this.writes;
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    this.writes = this.writes.then(async () => {
      await this.file!.appendFile(text);
      await this.file!.sync(); // acknowledged means on disk
    });
    return this.writes;
  }

  private index(e: RecordedEvent): void {
    this.events.set(e.event_id, e);
    if (e.query_id && POSITIVE.has(e.type)) {
      const list = this.byQuery.get(e.query_id) ?? [];
      list.push({ coupon: e.coupon_id, type: e.type, key: e.key_id });
      this.byQuery.set(e.query_id, list);
    }
    if (POSITIVE.has(e.type)) {
      const list = this.positives.get(e.user_id) ?? [];
      list.push({ coupon: e.coupon_id, type: e.type, ts: Date.parse(e.ts) });
      this.positives.set(e.user_id, list);
    }
  }

  /** Folds one event into the decayed counters (the same arithmetic as the PostgreSQL adapter). */
  private fold(id: string, facts: { categories: string[]; merchantId: string } | undefined): void {
    const e = this.events.get(id);
    if (!e || this.counted.has(id)) return;
    this.counted.add(id);
    const ts = Date.parse(e.ts);
    const bump = (m: Map<string, Decayed>, key: string) => {
      const d = m.get(key);
      if (!d) m.set(key, { value: 1, at: ts });
      else if (ts >= d.at) m.set(key, { value: d.value * decay(d.at, ts) + 1, at: ts });
      else d.value += decay(ts, d.at);
    };
    const c = this.counters.get(e.coupon_id) ?? new Map<string, Decayed>();
    this.counters.set(e.coupon_id, c);
    bump(c, e.type);
    if (EXCLUDING.has(e.type)) this.excluded.set(e.user_id, (this.excluded.get(e.user_id) ?? new Set()).add(e.coupon_id));
    if (facts && POSITIVE.has(e.type)) {
      const a = this.affinity.get(e.user_id) ?? { categories: new Map(), merchants: new Map() };
      this.affinity.set(e.user_id, a);
      for (const cat of facts.categories) bump(a.categories, cat);
      bump(a.merchants, facts.merchantId);
    }
  }
}
