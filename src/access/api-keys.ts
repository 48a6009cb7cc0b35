import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Filter, filterSchema } from '../domain/filter.ts';

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
 *
 * A key may carry a `filter` (the filter AST): a tenant-scoped key. The API ANDs it into every
 * search, similar, feed, suggest, facet and coupon read made with the key, and events posted with
 * it may only name coupons inside it — one deployment serving several marketplaces or regions, or
 * a widget key limited to one merchant. A key may also expire (`expires_at`): then it gets 401.
 */
export const SCOPES = ['search', 'events', 'write', 'metrics', 'analytics'] as const;
export type Scope = (typeof SCOPES)[number];
/** The scopes a key with a filter may have: reads and events. Writes, metrics and analytics span every tenant. */
export const SCOPED_KEY_SCOPES: readonly Scope[] = ['search', 'events'];

export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  sha256: string;
  created_at: string;
  revoked_at?: string;
  /** What the key may see: ANDed into every read made with it, never widened by the caller. */
  filter?: Filter;
  /** After this instant (ISO 8601) the key is refused with 401. */
  expires_at?: string;
}

/** What a presented key is: valid (its record), expired (401 saying so), or unknown, malformed or revoked. */
export type KeyCheck = { ok: true; record: ApiKeyRecord } | { ok: false; reason: 'expired'; expiredAt: string } | { ok: false; reason: 'invalid' };

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
    for (const k of parsed.keys) {
      // A key whose filter cannot be read must not serve the whole catalogue: refuse the file.
      if (k.filter !== undefined && !filterSchema.safeParse(k.filter).success) throw new Error(`key ${k.id}: its filter is not a valid filter AST`);
      if (k.expires_at !== undefined && Number.isNaN(Date.parse(k.expires_at))) throw new Error(`key ${k.id}: expires_at is not a date`);
      if (k.filter !== undefined && k.scopes.some((s) => !SCOPED_KEY_SCOPES.includes(s)))
        throw new Error(`key ${k.id}: a key with a filter may only have the ${SCOPED_KEY_SCOPES.join(', ')} scopes`);
    }
    return parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new Error(`API_KEYS_FILE ${path}: ${(error as Error).message}`);
  }
}

/** Writes atomically (temp file + rename), so a reader never sees half a file. */
export function writeKeyFile(path: string, file: KeyFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Creates a key; the secret is returned once and never stored. */
export function createKey(
  path: string,
  name: string,
  scopes: Scope[],
  options: { filter?: Filter | undefined; expiresAt?: Date | undefined } = {},
): { key: string; record: ApiKeyRecord } {
  if (options.filter && scopes.some((s) => !SCOPED_KEY_SCOPES.includes(s)))
    throw new Error(`a key with a filter may only have the ${SCOPED_KEY_SCOPES.join(', ')} scopes (writes, metrics and analytics span every tenant)`);
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = {
    id,
    name,
    scopes,
    sha256: digest(secret).toString('hex'),
    created_at: new Date().toISOString(),
    ...(options.filter && { filter: options.filter }),
    ...(options.expiresAt && { expires_at: options.expiresAt.toISOString() }),
  };
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

  /** Checks a presented key at `now`: its record, or why it is refused (expired is told apart, and only with the right secret). */
  verify(presented: string, now = new Date()): KeyCheck {
    this.maybeReload();
    const m = KEY_PATTERN.exec(presented);
    const record = m ? this.byId.get(m[1]!) : undefined;
    const expected = record ? Buffer.from(record.sha256, 'hex') : DUMMY;
    // Always one comparison, so an unknown id and a wrong secret take the same time.
    const same = timingSafeEqual(digest(m?.[2] ?? presented), expected);
    if (!same || !record || record.revoked_at) return { ok: false, reason: 'invalid' };
    if (record.expires_at && Date.parse(record.expires_at) <= now.getTime()) return { ok: false, reason: 'expired', expiredAt: record.expires_at };
    return { ok: true, record };
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
