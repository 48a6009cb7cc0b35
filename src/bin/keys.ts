/**
 * Manages API keys in API_KEYS_FILE (or --file). The API picks changes up within a second.
 *
 *   npm run keys -- create --name widgets --scopes search,events   # prints the key once
 *   npm run keys -- create --name acme-widget --scopes search,events --filter '{"merchant":["acme"]}' --expires 2027-01-01T00:00:00Z
 *                                  # a tenant-scoped key: every read is ANDed with the filter; 401 after the date
 *   npm run keys -- list
 *   npm run keys -- revoke <id>
 *   npm run keys -- bootstrap      # a fresh deployment: backend, widgets, metrics and analytics keys, only if none exist
 *
 * Rotation: create the new key, deploy it to the client, revoke the old one. Every change is in
 * the audit log (`npm run audit -- --action key.create`).
 */
import { parseCliArgs } from '../util/cli-args.ts';
import { type ApiKeyRecord, bootstrapKeys, createKey, readKeyFile, revokeKey, SCOPES, type Scope } from '../access/api-keys.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { loadConfig } from '../config.ts';
import { type Filter, filterSchema } from '../domain/filter.ts';

function main(): void {
  const [command, ...rest] = process.argv.slice(2);
  const positional = rest.filter((a, i) => !a.startsWith('--') && !rest[i - 1]?.startsWith('--'));
  const args = parseCliArgs(rest.filter((a) => !positional.includes(a)));
  const file = args.file ?? process.env.API_KEYS_FILE;
  if (!file) throw new Error('set API_KEYS_FILE (or pass --file <path>)');
  switch (command) {
    case 'create': {
      const scopes = (args.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (scopes.length === 0 || unknown.length)
        throw new Error(`--scopes: a comma list of ${SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
      const { key, record } = createKey(file, args.name ?? 'unnamed', scopes as Scope[], { filter: keyFilter(args.filter), expiresAt: expiry(args.expires) });
      auditKeys('key.create', [record]);
      const limits = [record.filter && `filter ${JSON.stringify(record.filter)}`, record.expires_at && `expires ${record.expires_at}`].filter(Boolean);
      console.error(
        `created key ${record.id} (${record.name}) with scopes ${record.scopes.join(', ')}${limits.length ? `, ${limits.join(', ')}` : ''}; it is shown once:`,
      );
      console.log(key);
      return;
    }
    case 'list':
      for (const k of readKeyFile(file).keys) {
        const notes = [k.revoked_at && `REVOKED ${k.revoked_at}`, k.expires_at && `expires ${k.expires_at}`, k.filter && `filter ${JSON.stringify(k.filter)}`];
        console.log(`${k.id}  ${k.name.padEnd(20)} ${k.scopes.join(',').padEnd(20)} created ${k.created_at}  ${notes.filter(Boolean).join('  ')}`.trimEnd());
      }
      return;
    case 'revoke': {
      const id = positional[0];
      if (!id) throw new Error('usage: npm run keys -- revoke <id>');
      if (!revokeKey(file, id)) throw new Error(`no active key '${id}' in ${file}`);
      auditKeys('key.revoke', [{ id }]);
      console.error(`revoked ${id}`);
      return;
    }
    case 'bootstrap': {
      const created = bootstrapKeys(file);
      if (created.length === 0) {
        console.error(`${file} already holds keys: nothing created (npm run keys -- list)`);
        return;
      }
      auditKeys(
        'key.create',
        created.map((c) => c.record),
      );
      console.log(`API keys created in ${file}. They are shown this once; only their hashes are stored:`);
      for (const { key, record } of created) console.log(`  ${record.name.padEnd(8)} (${record.scopes.join(',')}): ${key}`);
      return;
    }
    default:
      throw new Error(
        "usage: npm run keys -- create --name <name> --scopes search,events,write,metrics,analytics [--filter '<filter AST JSON>'] [--expires <ISO date-time>] | list | revoke <id> | bootstrap",
      );
  }
}

/** Key changes go to the same audit log as the API's writes (AUDIT_LOG, or DATA_DIR/audit.jsonl): the id and what it may do, never the secret. */
function auditKeys(action: 'key.create' | 'key.revoke', records: ReadonlyArray<Partial<ApiKeyRecord> & { id: string }>): void {
  const ts = new Date().toISOString();
  new AuditLog(loadConfig().auditLogPath).recordSync(
    records.map(({ id, name, scopes, filter, expires_at }) => ({ ts, via: 'cli', action, target: id, change: { name, scopes, filter, expires_at } })),
  );
}

/** `--filter`: a filter AST in JSON, checked as the API checks one. */
function keyFilter(json: string | undefined): Filter | undefined {
  if (json === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`--filter: not JSON: ${json}`);
  }
  const result = filterSchema.safeParse(parsed);
  if (!result.success) throw new Error(`--filter: ${result.error.issues.map((i) => `${i.path.join('.') || 'filter'}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** `--expires`: an ISO 8601 instant in the future. */
function expiry(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(text))
    throw new Error(`--expires: an ISO 8601 date-time such as 2027-01-01T00:00:00Z, got '${text}'`);
  if (at.getTime() <= Date.now()) throw new Error(`--expires: ${text} is not in the future`);
  return at;
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
