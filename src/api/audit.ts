import type { Context, Next } from 'koa';
import type { AuditChange, AuditLog } from '../audit/audit-log.ts';

/** Notes what the route changed; the `audited` middleware writes it once the route has succeeded. */
export function audit(ctx: Context, ...changes: AuditChange[]): void {
  ((ctx.state.audit as AuditChange[] | undefined) ?? (ctx.state.audit = [])).push(...changes);
}

/**
 * Writes the changes a successful request noted (`audit`) to the audit log, with the request id
 * and the key id, before the response leaves: an acknowledged write is always in the log.
 */
export function audited(log: AuditLog) {
  return async (ctx: Context, next: Next) => {
    await next();
    const changes = ctx.state.audit as AuditChange[] | undefined;
    if (!changes?.length || ctx.status >= 400) return;
    const ts = new Date().toISOString();
    await log.record(changes.map((c) => ({ ts, request_id: ctx.state.requestId, key_id: ctx.state.apiKey, via: 'api' as const, ...c })));
  };
}
