/**
 * Manages API keys in API_KEYS_FILE (or --file). The API picks changes up within a second.
 *
 *   npm run keys -- create --name widgets --scopes search,events   # prints the key once
 *   npm run keys -- list
 *   npm run keys -- revoke <id>
 *   npm run keys -- bootstrap      # a fresh deployment: backend, widgets, metrics and analytics keys, only if none exist
 *
 * Rotation: create the new key, deploy it to the client, revoke the old one.
 */
import { parseCliArgs } from '../util/cli-args.ts';
import { bootstrapKeys, createKey, readKeyFile, revokeKey, SCOPES, type Scope } from '../access/api-keys.ts';

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
      const { key, record } = createKey(file, args.name ?? 'unnamed', scopes as Scope[]);
      console.error(`created key ${record.id} (${record.name}) with scopes ${record.scopes.join(', ')}; it is shown once:`);
      console.log(key);
      return;
    }
    case 'list':
      for (const k of readKeyFile(file).keys)
        console.log(`${k.id}  ${k.name.padEnd(20)} ${k.scopes.join(',').padEnd(20)} created ${k.created_at}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}`);
      return;
    case 'revoke': {
      const id = positional[0];
      if (!id) throw new Error('usage: npm run keys -- revoke <id>');
      if (!revokeKey(file, id)) throw new Error(`no active key '${id}' in ${file}`);
      console.error(`revoked ${id}`);
      return;
    }
    case 'bootstrap': {
      const created = bootstrapKeys(file);
      if (created.length === 0) {
        console.error(`${file} already holds keys: nothing created (npm run keys -- list)`);
        return;
      }
      console.log(`API keys created in ${file}. They are shown this once; only their hashes are stored:`);
      for (const { key, record } of created) console.log(`  ${record.name.padEnd(8)} (${record.scopes.join(',')}): ${key}`);
      return;
    }
    default:
      throw new Error('usage: npm run keys -- create --name <name> --scopes search,events,write,metrics | list | revoke <id> | bootstrap');
  }
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
