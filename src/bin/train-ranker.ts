/**
 * Trains the ranker on the product's own logs and writes it where the engine loads it.
 *
 *   npm run train:ranker [-- --since 2026-11-01 --out models/ranker --validation 0.2 --exclude-keys <key id,…>]
 *
 * Reads the served result lists and events from the configured event store (DATABASE_URL, or the
 * embedded file under DATA_DIR), joins clicks, saves and redemptions to the lists by query_id,
 * estimates position propensities, trains with inverse-propensity-weighted listwise loss and saves
 * model.json + weights.bin + metadata.json (features, propensities, metrics) + idf.json. Restart
 * the API (or its workers) to serve the new model. The last line of stdout is the JSON report.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { createEventStore } from '../events/create-event-store.ts';
import type { ServedOutcome } from '../events/event-store.ts';
import { parseCliArgs } from '../util/cli-args.ts';
import { saveRanker, type RankerMetadata } from '../ranking/artifacts.ts';
import { trainFromLogs } from '../ranking/train-from-logs.ts';

async function main(): Promise<void> {
  const args = parseCliArgs();
  const config = loadConfig();
  const out = path.resolve(args.out ?? config.rankerDir ?? 'models/ranker');
  const since = args.since ? new Date(args.since) : undefined;
  if (since && Number.isNaN(since.getTime())) throw new Error(`--since: not a date: ${args.since}`);
  // Events posted with these API keys are left out (a public widget key whose traffic is not trusted).
  const excludeKeys = args['exclude-keys']?.split(',').filter(Boolean);
  const events = createEventStore(config.events);
  await events.open();
  const served: ServedOutcome[] = [];
  try {
    for await (const list of events.servedOutcomes({ since, excludeKeys })) served.push(list);
  } finally {
    await events.close();
  }
  process.stderr.write(`read ${served.length} served lists from the ${events.kind} event store\n`);
  const { ranker, report } = await trainFromLogs(served, { validationShare: Number(args.validation ?? 0.2) });
  // The IDF features must be computed at serving time as they were in the logs.
  const idf = report.idf === 'uniform' ? { '': 1 } : await idfOf(report.idf, args['idf-from'] ?? config.rankerDir);
  await saveRanker(out, ranker, {
    training: { source: 'served-list logs', since: since?.toISOString() ?? null, excluded_keys: excludeKeys ?? [], ...report },
    metrics: report.validation,
    idf,
    queryless: report.queryless,
  });
  console.log(
    `\n| | lists | model NDCG@10 (IPW) | served order NDCG@10 (IPW) | propensities |\n|---|---|---|---|---|\n| validation | ${report.validation_lists} | ${report.validation.model_ndcg10.toFixed(4)} | ${report.validation.served_ndcg10.toFixed(4)} | ${report.propensities.method}: ${report.propensities.values.slice(0, 5).join(', ')}… |\n`,
  );
  console.log(JSON.stringify({ out, ...report }));
}

/** The IDF table of the ranker whose version the logs were served with. */
async function idfOf(source: string, dir: string | undefined): Promise<Record<string, number>> {
  if (!dir) throw new Error(`the logs were served with IDF from '${source}': pass --idf-from <that ranker's directory>`);
  const metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as RankerMetadata;
  if (`ranker ${metadata.version}` !== source)
    throw new Error(`the logs were served with IDF from '${source}' but ${dir} holds ranker ${metadata.version}: pass --idf-from <the right directory>`);
  return JSON.parse(await readFile(path.join(dir, 'idf.json'), 'utf8')) as Record<string, number>;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
