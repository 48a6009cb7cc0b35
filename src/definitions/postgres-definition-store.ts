import pg from 'pg';
import { createSchema, postgresError } from '../util/postgres.ts';
import type { Definition, DefinitionKind, DefinitionStore } from './definition-store.ts';

/**
 * Definitions in PostgreSQL, shared by every API process: one row per (kind, id), and a revision
 * counter per kind bumped in the same statement as the write it counts (data-modifying CTEs run
 * atomically), so a process that sees the new revision also sees the write.
 */
export class PostgresDefinitionStore implements DefinitionStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly items: string;
  private readonly revisions: string;

  constructor(options: { url: string; tablePrefix?: string }) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 2, connectionTimeoutMillis: 3000 });
    this.pool.on('error', () => undefined); // surfaced on the next query
    const p = options.tablePrefix ?? 'cs_';
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(p)) throw new Error(`tablePrefix: must be a lower-case SQL identifier prefix, got '${p}'`);
    this.items = `${p}definitions`;
    this.revisions = `${p}definition_revisions`;
  }

  async open(): Promise<void> {
    await createSchema(
      this.pool,
      `${this.items}:schema`,
      `
      CREATE TABLE IF NOT EXISTS ${this.items} (kind text NOT NULL, id text NOT NULL, body jsonb NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (kind, id));
      CREATE TABLE IF NOT EXISTS ${this.revisions} (kind text PRIMARY KEY, revision bigint NOT NULL);`,
      'definitions',
    );
  }

  async list(kind: DefinitionKind): Promise<Definition[]> {
    const res = await this.query(`SELECT id, body, updated_at FROM ${this.items} WHERE kind = $1 ORDER BY id`, [kind]);
    return res.rows.map((r) => ({ id: r.id as string, body: r.body, updatedAt: (r.updated_at as Date).toISOString() }));
  }

  async put(kind: DefinitionKind, id: string, body: unknown): Promise<Definition> {
    const res = await this.query(
      `WITH written AS (
         INSERT INTO ${this.items} (kind, id, body, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at RETURNING updated_at),
       bumped AS (${this.bump('$1')})
       SELECT updated_at FROM written`,
      [kind, id, JSON.stringify(body)],
    );
    return { id, body, updatedAt: (res.rows[0].updated_at as Date).toISOString() };
  }

  async delete(kind: DefinitionKind, id: string): Promise<boolean> {
    const res = await this.query(
      `WITH deleted AS (DELETE FROM ${this.items} WHERE kind = $1 AND id = $2 RETURNING id),
       bumped AS (${this.bump('$1', 'deleted')})
       SELECT count(*)::int AS n FROM deleted`,
      [kind, id],
    );
    return res.rows[0].n > 0;
  }

  async revision(kind: DefinitionKind): Promise<number> {
    const res = await this.query(`SELECT revision FROM ${this.revisions} WHERE kind = $1`, [kind]);
    return res.rows.length ? Number(res.rows[0].revision) : 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Drops the tables (tests). */
  async drop(): Promise<void> {
    await this.query(`DROP TABLE IF EXISTS ${this.items}; DROP TABLE IF EXISTS ${this.revisions};`);
  }

  /** The revision bump, for every row of `from` (the write, when given). */
  private bump(kindParam: string, from?: string): string {
    const source = from ? `SELECT ${kindParam}::text, 1 FROM ${from}` : `VALUES (${kindParam}::text, 1)`;
    return `INSERT INTO ${this.revisions} (kind, revision) ${source} ON CONFLICT (kind) DO UPDATE SET revision = ${this.revisions}.revision + 1`;
  }

  private async query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, values);
    } catch (error) {
      throw postgresError(error, 'definitions');
    }
  }
}
