import { isIP } from 'node:net';
import { ConfigError, type Config } from '../config.ts';

/** Loopback names and addresses: only this machine can reach a server listening there. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Secure by default: an API reachable from other machines must have API keys. Without
 * API_KEYS_FILE it refuses to start on a non-loopback interface, unless ALLOW_ANONYMOUS=true says
 * open access is meant (then it warns). Loopback keeps the open local mode of `npm start`.
 * Returns a warning to log, or throws ConfigError with what to do.
 */
export function checkListenPolicy(config: Pick<Config, 'server' | 'access'>): string | undefined {
  const { host } = config.server;
  const { apiKeysFile, allowAnonymous } = config.access;
  if (apiKeysFile || isLoopback(host)) return undefined;
  if (allowAnonymous) {
    return `ALLOW_ANONYMOUS=true: the API listens on ${host} without API keys; anyone who can reach it can write coupons, start a reindex and post events`;
  }
  throw new ConfigError(
    `refusing to listen on ${host} without API keys: anyone who could reach the port could overwrite the catalogue.\n` +
      '  Create keys and point API_KEYS_FILE at them:\n' +
      '    npm run keys -- create --name backend --scopes search,events,write --file keys.json   # the backend that writes coupons\n' +
      '    npm run keys -- create --name widgets --scopes search,events --file keys.json         # the public widget key\n' +
      '    API_KEYS_FILE=keys.json npm start\n' +
      '  or set ALLOW_ANONYMOUS=true to serve without keys on purpose, or HOST=127.0.0.1 for local use.',
  );
}
