import { appendFileSync, mkdirSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { iterateJsonLines } from '../util/json-lines.ts';

/** What an audit line records. */
export const AUDIT_ACTIONS = [
  'coupon.upsert',
  'coupon.delete',
  'reindex',
  'rule.put',
  'rule.delete',
  'synonyms.put',
  'synonyms.delete',
  'key.create',
  'key.revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One change: what was done, to what, and the detail that says what changed. */
export interface AuditChange {
  action: AuditAction;
  /** The coupon, rule, synonym set or key id; `*` for a reindex. */
  target: string;
  change?: object | undefined;
}

/** One line of the audit log: the change, when, the request and the API key id (never its secret). */
export interface AuditEntry extends AuditChange {
  ts: string;
  request_id?: string | undefined;
  /** The key that made it; absent in the open local mode (no API keys) and for the keys CLI. */
  key_id?: string | undefined;
  /** `api` or `cli`. */
  via: 'api' | 'cli';
}

export interface AuditQuery {
  since?: Date | undefined;
  keyId?: string | undefined;
  action?: AuditAction | undefined;
  target?: string | undefined;
}

/**
 * The audit log of writes: an append-only JSON-lines file (AUDIT_LOG) that every API process and
 * the keys CLI append to. An API write is logged before it is acknowledged, so an accepted write
 * is never missing from it; a line is one `write` in append mode, so processes sharing the file do
 * not interleave within lines.
 */
export class AuditLog {
  private dirReady: Promise<unknown> | undefined;

  constructor(readonly path: string) {}

  async record(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.dirReady ??= mkdir(path.dirname(this.path), { recursive: true });
    await this.dirReady;
    await appendFile(this.path, asLines(entries), { mode: 0o600 });
  }

  /** For short-lived CLIs that exit right after. */
  recordSync(entries: readonly AuditEntry[]): void {
    if (entries.length === 0) return;
    mkdirSync(path.dirname(this.path), { recursive: true });
    appendFileSync(this.path, asLines(entries), { mode: 0o600 });
  }

  /** The entries matching every given criterion, oldest first. */
  async *query(q: AuditQuery = {}): AsyncIterable<AuditEntry> {
    const since = q.since?.getTime() ?? -Infinity;
    for await (const e of iterateJsonLines<AuditEntry>(this.path)) {
      if (Date.parse(e.ts) < since) continue;
      if (q.keyId && e.key_id !== q.keyId) continue;
      if (q.action && e.action !== q.action) continue;
      if (q.target && e.target !== q.target) continue;
      yield e;
    }
  }
}

/** One write per call: the entries as JSON lines. */
function asLines(entries: readonly AuditEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
