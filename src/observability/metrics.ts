import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobCounts } from '../indexing/queue.ts';
import type { StoreStats } from '../store/vector-store.ts';
import type { StageName } from '../search/context.ts';

/** What the metrics read at scrape time (the engine provides them). */
export interface MetricsSources {
  jobCounts(): Promise<JobCounts>;
  indexStats(): Promise<StoreStats>;
  writerStats(): Record<string, number>;
  models(): { embedder: string; ranker: string; recommender: string };
}

/**
 * Prometheus metrics for GET /metrics: request latency per route, pipeline stage latency, and,
 * read at scrape time, queue depth by state (failed jobs included), index size and loaded model
 * versions. One registry per app, so tests and several apps in one process do not collide.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly stages: Histogram<'pipeline' | 'stage'>;
  readonly rateLimited: Counter<'bucket'>;
  readonly eventsAccepted: Counter;

  constructor(sources: MetricsSources) {
    const registry = this.registry;
    // Two gauges read the store's stats: one read per scrape serves both.
    let statsRead: { at: number; stats: Promise<StoreStats | undefined> } | undefined;
    const indexStats = () => {
      if (!statsRead || Date.now() - statsRead.at > 500) statsRead = { at: Date.now(), stats: sources.indexStats().catch(() => undefined) };
      return statsRead.stats;
    };
    const ms = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requests = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: ms,
      registers: [registry],
    });
    this.stages = new Histogram({
      name: 'search_stage_duration_seconds',
      help: 'Search pipeline stage latency',
      labelNames: ['pipeline', 'stage'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.rateLimited = new Counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['bucket'],
      registers: [registry],
    });
    this.eventsAccepted = new Counter({ name: 'events_accepted_total', help: 'Interaction events stored (replays excluded)', registers: [registry] });
    new Gauge({
      name: 'queue_jobs',
      help: 'Indexing jobs by state (failed: jobs that exhausted their retries)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await sources.jobCounts().catch(() => undefined);
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'index_coupons',
      help: 'Coupons in the vector store',
      registers: [registry],
      async collect() {
        const stats = await indexStats();
        if (stats) this.set(stats.count);
      },
    });
    new Gauge({
      name: 'index_fragments',
      help: 'Data fragments of the embedded store (compaction keeps them bounded under a steady stream of writes)',
      registers: [registry],
      async collect() {
        const stats = await indexStats();
        if (stats?.fragments !== undefined) this.set(stats.fragments);
      },
    });
    new Gauge({
      name: 'index_writer',
      help: "This process's store writer: commits, rows written, maintenance runs and the milliseconds they took, and whether one is running",
      labelNames: ['counter'],
      registers: [registry],
      collect() {
        for (const [counter, n] of Object.entries(sources.writerStats())) this.set({ counter }, n);
      },
    });
    new Gauge({
      name: 'model_info',
      help: 'Loaded models (value 1), by kind and version',
      labelNames: ['kind', 'version'],
      registers: [registry],
      collect() {
        this.reset();
        const models = sources.models();
        for (const kind of ['embedder', 'ranker', 'recommender'] as const) this.set({ kind, version: models[kind] }, 1);
      },
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  observeStages(pipeline: string, timings: Partial<Record<StageName, number>>): void {
    for (const [stage, ms] of Object.entries(timings)) this.stages.observe({ pipeline, stage }, ms / 1000);
  }
}
