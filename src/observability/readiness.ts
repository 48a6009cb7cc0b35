import type { EventStore } from '../events/event-store.ts';
import type { JobQueue } from '../indexing/queue.ts';
import type { Ranking } from '../ranking/load-ranking.ts';
import type { RecommenderService } from '../recommend/recommender-service.ts';
import { describeSpace, type VectorSpace, type VectorStore } from '../store/vector-store.ts';

/** What /readyz answers: every check, and whether all passed. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Runs every probe at once; a probe that throws is a failed check with its message as detail. */
export async function runProbes(probes: Record<string, () => Promise<string | undefined>>): Promise<Readiness['checks']> {
  const checks: Readiness['checks'] = {};
  await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        const detail = await probe();
        checks[name] = { ok: true, ...(detail && { detail }) };
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    }),
  );
  return checks;
}

/** /readyz: each dependency probed at once (a ping, never a scan: probes run every few seconds), and the shutdown state. */
export async function readinessOf(parts: {
  store: VectorStore;
  events: EventStore;
  queue: JobQueue;
  ranking: Ranking;
  recommender: RecommenderService | undefined;
  space: VectorSpace;
  /** Throws when the stored vectors are of another space (a reindex is required). */
  checkSpace: () => Promise<unknown>;
  draining: boolean;
}): Promise<Readiness> {
  const { store, events, queue, ranking, recommender } = parts;
  const checks = await runProbes({
    store: async () => {
      const s = await store.stats();
      return `${store.kind}: ${s.count} coupons${s.annIndexed ? ', ANN index' : ', exact search'}`;
    },
    embedder: async () => describeSpace(parts.space),
    events: async () => {
      await events.ping();
      return events.kind;
    },
    ranker: async () => ranking.detail,
    recommender: async () => (recommender ? `${recommender.kind} ${recommender.version}` : 'no model loaded: feeds use popularity'),
    queue: async () => {
      await queue.ping();
      return queue.kind;
    },
    vector_space: async () => {
      await parts.checkSpace();
      return undefined;
    },
  });
  if (parts.draining) checks.shutdown = { ok: false, detail: 'shutting down: finishing in-flight requests and jobs' };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}
