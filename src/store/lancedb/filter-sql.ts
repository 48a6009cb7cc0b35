import { assertNever, type Filter, type Range } from '../../domain/filter.ts';
import { chunks } from '../../util/chunks.ts';
import { coverCircle } from './geohash.ts';

/**
 * Compiles the filter AST to a LanceDB (DataFusion) SQL predicate over the columns written by
 * `rows.ts`. Values never reach the SQL unescaped: strings become quoted literals with `'` doubled
 * (backslashes are not escapes in SQL literals), numbers are checked finite, column names are ours.
 *
 * `exact` is false when the SQL is only a necessary condition (a geo radius is prefiltered by
 * geohash cells); the store then re-checks each candidate with `matchesFilter`. The columns are
 * never NULL, so SQL's three-valued logic cannot make `NOT` disagree with the reference semantics.
 */
export interface CompiledFilter {
  sql: string | undefined;
  exact: boolean;
}

const TRUE = 'TRUE';

export function compileFilter(filter: Filter | undefined): CompiledFilter {
  if (!filter) return { sql: undefined, exact: true };
  const { sql, exact } = compile(filter);
  return { sql: sql === TRUE ? undefined : sql, exact };
}

export function sqlString(value: string): string {
  // NUL cannot appear in a SQL literal; no stored value contains it, so it can never match anyway.
  return `'${value.replace(/\u0000/g, '').replace(/'/g, "''")}'`;
}

function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite number in filter: ${value}`);
  // DataFusion reads plain decimals; avoid exponent notation for very small or large values.
  return Number.isInteger(value) ? value.toFixed(0) : value.toFixed(10).replace(/0+$/, '');
}

const list = (values: readonly string[]) => `[${values.map(sqlString).join(', ')}]`;
const inList = (column: string, values: readonly string[]) => `${column} IN (${values.map(sqlString).join(', ')})`;

/** Ids per `id IN (…)` predicate: long lists are split so no statement grows without bound. */
const ID_LIST_CHUNK = 500;

/** `id IN (…)` predicates covering `ids` (deduplicated), one per chunk of at most 500. */
export function idPredicates(ids: Iterable<string>): string[] {
  return chunks([...new Set(ids)], ID_LIST_CHUNK).map((chunk) => inList('id', chunk));
}

function range(column: string, r: Range): string {
  const parts: string[] = [];
  if (r.gte !== undefined) parts.push(`${column} >= ${sqlNumber(r.gte)}`);
  if (r.lte !== undefined) parts.push(`${column} <= ${sqlNumber(r.lte)}`);
  return parts.join(' AND ');
}

function exactly(sql: string): CompiledFilter {
  return { sql: `(${sql})`, exact: true };
}

function compile(f: Filter): CompiledFilter {
  if ('and' in f) {
    const parts = f.and.map(compile);
    const sqls = parts.map((p) => p.sql).filter((s) => s !== TRUE);
    return { sql: sqls.length ? `(${sqls.join(' AND ')})` : TRUE, exact: parts.every((p) => p.exact) };
  }
  if ('or' in f) {
    const parts = f.or.map(compile);
    if (parts.some((p) => p.sql === TRUE)) return { sql: TRUE, exact: parts.every((p) => p.exact) };
    return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, exact: parts.every((p) => p.exact) };
  }
  if ('not' in f) {
    const inner = compile(f.not);
    // The negation of a superset is no superset: constrain nothing and let the exact check decide.
    if (!inner.exact) return { sql: TRUE, exact: false };
    return { sql: inner.sql === TRUE ? 'FALSE' : `(NOT ${inner.sql})`, exact: true };
  }
  if ('id' in f) return exactly(inList('id', f.id));
  if ('category' in f) return exactly(`array_has_any(categories, ${list(f.category)})`);
  if ('merchant' in f) return exactly(inList('merchant_id', f.merchant));
  if ('region' in f) return exactly(inList('region', f.region));
  if ('tags_any' in f) return exactly(`array_has_any(tags, ${list(f.tags_any)})`);
  if ('tags_all' in f) return exactly(`array_has_all(tags, ${list(f.tags_all)})`);
  if ('discount_kind' in f) return exactly(inList('discount_kind', f.discount_kind));
  if ('status' in f) return exactly(inList('status', f.status));
  if ('discount_pct' in f) return exactly(range('discount_pct', f.discount_pct));
  if ('final_price' in f) return exactly(`has_final_price AND ${range('final_price', f.final_price)}`);
  if ('valid_at' in f) {
    const t = sqlNumber(Date.parse(f.valid_at));
    return exactly(`valid_from_ms <= ${t} AND valid_until_ms > ${t}`);
  }
  if ('geo' in f) {
    const cells = coverCircle(f.geo, f.geo.radius_km);
    return { sql: cells ? `(in_store AND array_has_any(geo_cells, ${list(cells)}))` : '(in_store)', exact: false };
  }
  if ('online' in f) return exactly(`online = ${f.online ? 'TRUE' : 'FALSE'}`);
  if ('in_store' in f) return exactly(`in_store = ${f.in_store ? 'TRUE' : 'FALSE'}`);
  // No weekday column (adding one would need a table migration): every candidate is re-checked.
  if ('usable_on' in f) return { sql: TRUE, exact: false };
  return assertNever(f);
}
