import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/**
 * API keys with scopes, stored hashed in a JSON file (API_KEYS_FILE) that the API re-reads when it
 * changes: creating, rotating or revoking a key (`npm run keys`) takes effect without a restart.
 *
 * A key reads `csk_<id>_<secret>`. The id finds the record; the secret's SHA-256 is compared
 * with the stored one in constant time (a random 256-bit secret needs no slow hash: there is
 * nothing to brute-force). Scopes: `search` (read-only: search, similar, feeds, coupon reads; may
 * be public in widgets), `events` (interaction events; widgets need it too), `write` (coupons,
 * reindex, jobs, synonyms and rules), `metrics` (GET /metrics, for a Prometheus scraper),
 * `analytics` (search analytics, the ranker experiment and the dashboard: business data).
 */
export const SCOPES = ['search', 'events', 'write', 'metrics', 'analytics'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  sha256: string;
  created_at: string;
  revoked_at?: string;
}

interface KeyFile {
  keys: ApiKeyRecord[];
}

const KEY_PATTERN = /^csk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const digest = (secret: string) => createHash('sha256').update(secret).digest();
const DUMMY = digest('timing-equaliser');

export function readKeyFile(path: string): KeyFile {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
    return parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new Error(`API_KEYS_FILE ${path}: ${(error as Error).message}`);
  }
}

/** Writes atomically (temp file + rename), so a reader never sees half a file. */
export function writeKeyFile(path: string, file: KeyFile): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Creates a key; the secret is returned once and never stored. */
export function createKey(path: string, name: string, scopes: Scope[]): { key: string; record: ApiKeyRecord } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = { id, name, scopes, sha256: digest(secret).toString('hex'), created_at: new Date().toISOString() };
  const file = readKeyFile(path);
  file.keys.push(record);
  writeKeyFile(path, file);
  return { key: `csk_${id}_${secret}`, record };
}

export function revokeKey(path: string, id: string): boolean {
  const file = readKeyFile(path);
  const record = file.keys.find((k) => k.id === id && !k.revoked_at);
  if (!record) return false;
  record.revoked_at = new Date().toISOString();
  writeKeyFile(path, file);
  return true;
}

/** The keys the API checks against, reloaded when the file's mtime changes (checked at most once a second). */
export class ApiKeyRing {
  private byId = new Map<string, ApiKeyRecord>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(private readonly path: string) {
    this.reload();
  }

  /** The record of a valid key, or undefined (unknown, malformed, wrong secret or revoked). */
  verify(presented: string): ApiKeyRecord | undefined {
    this.maybeReload();
    const m = KEY_PATTERN.exec(presented);
    const record = m ? this.byId.get(m[1]!) : undefined;
    const expected = record ? Buffer.from(record.sha256, 'hex') : DUMMY;
    // Always one comparison, so an unknown id and a wrong secret take the same time.
    const same = timingSafeEqual(digest(m?.[2] ?? presented), expected);
    return same && record && !record.revoked_at ? record : undefined;
  }

  get size(): number {
    this.maybeReload();
    return [...this.byId.values()].filter((k) => !k.revoked_at).length;
  }

  private maybeReload(): void {
    if (Date.now() - this.checkedAt < 1000) return;
    this.reload();
  }

  private reload(): void {
    this.checkedAt = Date.now();
    let mtime = 0;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      mtime = 0;
    }
    if (mtime === this.mtimeMs) return;
    this.mtimeMs = mtime;
    this.byId = new Map(readKeyFile(this.path).keys.map((k) => [k.id, k]));
  }
}

/** The keys a new deployment starts with: one for the backend that writes, one public for widgets, one for the scraper, one for analytics. */
const BOOTSTRAP: Array<{ name: string; scopes: Scope[] }> = [
  { name: 'backend', scopes: ['search', 'events', 'write'] },
  { name: 'widgets', scopes: ['search', 'events'] },
  { name: 'metrics', scopes: ['metrics'] },
  { name: 'analytics', scopes: ['analytics'] },
];

/**
 * Creates the bootstrap keys when the file holds no key yet, and returns them (their secrets are
 * shown this once and never stored); returns [] when keys already exist, so running it on every
 * start of a deployment is safe.
 */
export function bootstrapKeys(path: string): Array<{ key: string; record: ApiKeyRecord }> {
  if (readKeyFile(path).keys.length > 0) return [];
  return BOOTSTRAP.map(({ name, scopes }) => createKey(path, name, scopes));
}
