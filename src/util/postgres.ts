import type pg from 'pg';
import { UnavailableError } from '../errors.ts';

/** Connection failures become UnavailableError (503, retry) naming `dependency`; SQL errors stay errors. */
export function postgresError(error: unknown, dependency: string): Error {
  const code = (error as { code?: string }).code ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|57P0\d|08\d\d\d)$/.test(code) || /timeout|terminated|Connection/i.test((error as Error).message)) {
    return new UnavailableError(dependency, (error as Error).message, { cause: error });
  }
  return error as Error;
}

/**
 * Runs schema statements under a transaction-scoped advisory lock named by `key`: processes that
 * start together would otherwise race in `CREATE TABLE IF NOT EXISTS` (PostgreSQL then fails one
 * of them on its catalogue's unique index).
 */
export async function createSchema(pool: pg.Pool, key: string, sql: string, dependency: string): Promise<void> {
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    await client.query(sql);
    await client.query('COMMIT');
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => undefined);
    throw postgresError(error, dependency);
  } finally {
    client?.release();
  }
}
