/**
 * Reads the audit log of writes (AUDIT_LOG, or DATA_DIR/audit.jsonl; --file overrides): one JSON
 * line per coupon write, delete, reindex, rule or synonym change and key change.
 *
 *   npm run audit -- --since 2026-12-01T00:00:00Z
 *   npm run audit -- --since 24h --action coupon.delete
 *   npm run audit -- --key 3f2a9c1b7d4e --target cpn-000123
 */
import { AUDIT_ACTIONS, type AuditAction, AuditLog } from '../audit/audit-log.ts';
import { loadConfig } from '../config.ts';
import { parseCliArgs } from '../util/cli-args.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO date-time, or a span back from now: `90m`, `24h`, `7d`. */
function since(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const span = /^(\d+)([mhd])$/.exec(text);
  if (span) return new Date(Date.now() - Number(span[1]) * UNITS[span[2]!]!);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new Error(`--since: an ISO 8601 date-time or a span such as 24h or 7d, got '${text}'`);
  return at;
}

async function main(): Promise<void> {
  const args = parseCliArgs();
  for (const name of Object.keys(args))
    if (!['since', 'key', 'action', 'target', 'file'].includes(name))
      throw new Error(`unknown option --${name} (options: --since, --key, --action, --target, --file)`);
  if (args.action && !(AUDIT_ACTIONS as readonly string[]).includes(args.action)) throw new Error(`--action: one of ${AUDIT_ACTIONS.join(', ')}`);
  const log = new AuditLog(args.file ?? loadConfig().auditLogPath);
  let n = 0;
  for await (const entry of log.query({ since: since(args.since), keyId: args.key, action: args.action as AuditAction | undefined, target: args.target })) {
    process.stdout.write(`${JSON.stringify(entry)}\n`);
    n++;
  }
  console.error(`${n} entr${n === 1 ? 'y' : 'ies'} in ${log.path}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
