/**
 * A consistent backup of a running installation (the API may keep serving and writing):
 *
 *   npm run backup -- --out backups/2026-12-02.tar
 *
 * It reads the same configuration as the API (DATA_DIR, VECTOR_STORE, QDRANT_*, DATABASE_URL,
 * API_KEYS_FILE, the model directories) and writes one tar with a manifest of versions and
 * checksums. Restore with `npm run restore`.
 */
import { takeBackup } from '../backup/backup.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { parseCliArgs } from '../util/cli-args.ts';

async function main(): Promise<void> {
  const args = parseCliArgs();
  for (const name of Object.keys(args)) if (name !== 'out') throw new Error(`unknown option --${name} (usage: npm run backup -- --out <file.tar>)`);
  if (!args.out || args.out === 'true') throw new Error('usage: npm run backup -- --out <file.tar>');
  const manifest = await takeBackup(loadConfig(), args.out, (line) => console.error(`backup: ${line}`));
  console.log(JSON.stringify({ out: args.out, started_at: manifest.started_at, finished_at: manifest.finished_at, files: manifest.files.length }));
}

main().catch((error: Error) => {
  console.error(error instanceof ConfigError ? error.message : `backup failed: ${error.message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
