/**
 * Restores a backup made by `npm run backup` into a data directory:
 *
 *   npm run restore -- backups/2026-12-02.tar --data-dir ./data-restored
 *   npm run restore -- backups/2026-12-02.tar --data-dir ./data --force          # replace what ./data holds
 *   npm run restore -- b.tar --data-dir ./data --database-url postgres://…        # load the event store's dump
 *   npm run restore -- b.tar --data-dir ./data --qdrant-url http://qdrant:6333    # upload the Qdrant snapshots
 *
 * Every file is checked against the manifest first; a non-empty directory is refused without
 * --force. It prints the environment that starts the API on what it restored.
 */
import { restoreBackup } from '../backup/restore.ts';
import { parseCliArgs } from '../util/cli-args.ts';

const USAGE = 'usage: npm run restore -- <file.tar> --data-dir <dir> [--force] [--database-url <url>] [--qdrant-url <url> [--qdrant-collection coupons]]';

async function main(): Promise<void> {
  const [file, ...rest] = process.argv.slice(2);
  if (!file || file.startsWith('--')) throw new Error(USAGE);
  const args = parseCliArgs(rest);
  for (const name of Object.keys(args))
    if (!['data-dir', 'force', 'database-url', 'qdrant-url', 'qdrant-collection'].includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  if (!args['data-dir'] || args['data-dir'] === 'true') throw new Error(USAGE);
  const qdrantUrl = args['qdrant-url'];
  const result = await restoreBackup(file, {
    dataDir: args['data-dir'],
    force: args.force === 'true',
    databaseUrl: args['database-url'],
    qdrant: qdrantUrl ? { url: qdrantUrl, apiKey: process.env.QDRANT_API_KEY, alias: args['qdrant-collection'] ?? 'coupons' } : undefined,
  });
  console.error(`restored the backup taken at ${result.manifest.started_at} into ${args['data-dir']}`);
  for (const step of result.todo) console.error(`still to do: ${step}`);
  console.error('start the API on it with:');
  console.log(
    `${Object.entries(result.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} npm start`,
  );
}

main().catch((error: Error) => {
  console.error(`restore failed: ${error.message}`);
  process.exit(error.message.startsWith('usage') || error.message.includes('--force') ? 2 : 1);
});
