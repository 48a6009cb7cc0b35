import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { haversineKm } from '../../../src/domain/geo.ts';
import type { OpenApiValidator } from './openapi.ts';
import { Binary, SnapshotShelf } from './snapshots.ts';

/**
 * A small in-memory stand-in for a Qdrant 1.19 server, for tests on machines where no Qdrant can
 * run. It implements the operations the adapter uses with Qdrant's documented semantics (filters,
 * cosine and IDF-weighted sparse scoring, aliases, update_filter) and checks every request and
 * every response it sends against Qdrant's own OpenAPI document. It is a test double of the
 * server, not of the adapter: the adapter's real client, HTTP and JSON all run.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  requestErrors: string[];
  responseErrors: string[];
}

type Vector = number[] | { indices: number[]; values: number[] };
interface Point {
  id: string | number;
  vector: Record<string, Vector>;
  payload: Record<string, unknown>;
}
interface Collection {
  config: Record<string, unknown>;
  points: Map<string | number, Point>;
  payloadSchema: Record<string, string>;
}
type Cond = Record<string, unknown>;

export class QdrantEmulator {
  readonly requests: RecordedRequest[] = [];
  private readonly collections = new Map<string, Collection>();
  private readonly aliases = new Map<string, string>();
  private server: Server | undefined;
  private operationId = 0;
  private failures: number[] = [];
  private readonly snapshots = new SnapshotShelf<Collection>(
    (c) => Buffer.from(JSON.stringify({ config: c.config, payloadSchema: c.payloadSchema, points: [...c.points.values()] })),
    (bytes) => {
      const parsed = JSON.parse(bytes.toString('utf8')) as { config: Record<string, unknown>; payloadSchema: Record<string, string>; points: Point[] };
      return { config: parsed.config, payloadSchema: parsed.payloadSchema, points: new Map(parsed.points.map((p) => [p.id, p])) };
    },
  );

  /** The next requests answer with these statuses instead (to test retries). */
  failNext(...statuses: number[]): void {
    this.failures.push(...statuses);
  }

  constructor(
    private readonly validator: OpenApiValidator,
    private readonly version = '1.19.0',
  ) {}

  /** Listens on `port` (0: any free one); stop() then start(samePort) is a server restart that keeps the data. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        if (body instanceof Binary) {
          res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.bytes.length });
          res.end(body.bytes);
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    this.server.listen(port, '127.0.0.1');
    await new Promise((r) => this.server!.once('listening', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url!, 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? '';
    // A snapshot upload is multipart/form-data; everything else is JSON.
    const multipart = contentType.startsWith('multipart/form-data');
    const text = multipart ? '' : raw.toString('utf8');
    const body = text ? JSON.parse(text) : undefined;
    const record: RecordedRequest = { method: req.method!, path: url.pathname, body, requestErrors: [], responseErrors: [] };
    record.requestErrors = guarded(() =>
      this.validator.validateRequest(req.method!, url.pathname, url.searchParams, body, multipart ? 'multipart/form-data' : undefined),
    );
    this.requests.push(record);
    const started = performance.now();
    const injected = this.failures.shift();
    if (injected !== undefined) return { status: injected, body: { status: { error: `injected ${injected}` }, time: 0 } };
    let status = 200;
    let result: unknown;
    try {
      result = this.dispatch(req.method!, url.pathname, body, { query: url.searchParams, raw, contentType });
    } catch (error) {
      status = (error as { status?: number }).status ?? 500;
      const response = { status: { error: (error as Error).message }, time: 0 };
      return { status, body: response };
    }
    if (result instanceof Binary) {
      record.responseErrors = guarded(() => this.validator.validateResponse(req.method!, url.pathname, status, undefined, 'application/octet-stream'));
      return { status, body: result };
    }
    const response = url.pathname === '/' ? result : { result, status: 'ok', time: (performance.now() - started) / 1000 };
    record.responseErrors = guarded(() => this.validator.validateResponse(req.method!, url.pathname, status, response));
    return { status, body: response };
  }

  private dispatch(method: string, path: string, body: any, request: { query: URLSearchParams; raw: Buffer; contentType: string }): unknown {
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'GET' && seg.length === 0) return { title: 'qdrant - vector search engine', version: this.version, commit: null };
    if (method === 'GET' && path === '/aliases')
      return { aliases: [...this.aliases].map(([alias_name, collection_name]) => ({ alias_name, collection_name })) };
    if (method === 'GET' && path === '/collections') return { collections: [...this.collections.keys()].map((name) => ({ name })) };
    if (method === 'POST' && path === '/collections/aliases') return this.changeAliases(body.actions);
    if (seg[0] !== 'collections' || !seg[1]) throw httpError(404, `no route ${method} ${path}`);
    const name = seg[1];
    const rest = seg.slice(2).join('/');
    if (rest === 'exists' && method === 'GET' && !this.collections.has(this.aliases.get(name) ?? name)) return { exists: false };
    if (rest === '' && method === 'PUT') return this.createCollection(name, body);
    if (rest === '' && method === 'DELETE') return this.collections.delete(name);
    if (this.snapshots.handles(rest)) return this.snapshots.dispatch(method, name, rest, request.query, request.raw, request.contentType, this.collections);
    const c = this.collection(name);
    if (rest === '' && method === 'GET') return this.info(c);
    if (rest === 'exists' && method === 'GET') return { exists: true };
    if (rest === 'index' && method === 'PUT') {
      c.payloadSchema[body.field_name] = body.field_schema;
      return this.updated();
    }
    if (rest === 'points' && method === 'PUT') return this.upsert(c, body);
    if (rest === 'points' && method === 'POST')
      return body.ids.filter((id: string) => c.points.has(id)).map((id: string) => this.record(c.points.get(id)!, body));
    if (rest === 'points/delete' && method === 'POST') {
      for (const id of body.points) c.points.delete(id);
      return this.updated();
    }
    if (rest === 'points/count' && method === 'POST')
      return { count: [...c.points.values()].filter((p) => !body?.filter || matches(p.payload, body.filter)).length };
    if (rest === 'points/scroll' && method === 'POST') return this.scroll(c, body);
    if (rest === 'points/query' && method === 'POST') return this.query(c, body);
    throw httpError(404, `not emulated: ${method} ${path}`);
  }

  private collection(name: string): Collection {
    const c = this.collections.get(this.aliases.get(name) ?? name);
    if (!c) throw httpError(404, `Collection \`${name}\` doesn't exist!`);
    return c;
  }

  private createCollection(name: string, body: any): boolean {
    if (this.collections.has(name)) throw httpError(409, `Collection \`${name}\` already exists!`);
    this.collections.set(name, { config: body, points: new Map(), payloadSchema: {} });
    return true;
  }

  private changeAliases(actions: any[]): boolean {
    for (const a of actions) {
      if (a.create_alias) this.aliases.set(a.create_alias.alias_name, a.create_alias.collection_name);
      if (a.delete_alias) this.aliases.delete(a.delete_alias.alias_name);
    }
    return true;
  }

  private info(c: Collection): unknown {
    const params: Record<string, unknown> = {
      vectors: c.config.vectors,
      shard_number: 1,
      replication_factor: 1,
      write_consistency_factor: 1,
      on_disk_payload: true,
    };
    if (c.config.sparse_vectors) params.sparse_vectors = c.config.sparse_vectors;
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: c.points.size,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params,
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 20000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: null,
        ...(c.config.metadata ? { metadata: c.config.metadata } : {}),
      },
      payload_schema: Object.fromEntries(Object.entries(c.payloadSchema).map(([k, t]) => [k, { data_type: t, points: c.points.size }])),
    };
  }

  private updated(): unknown {
    return { operation_id: ++this.operationId, status: 'completed' };
  }

  private upsert(c: Collection, body: any): unknown {
    for (const p of body.points as Point[]) {
      const existing = c.points.get(p.id);
      if (existing && body.update_filter && !matches(existing.payload, body.update_filter)) continue;
      c.points.set(p.id, { id: p.id, vector: p.vector, payload: p.payload ?? {} });
    }
    return this.updated();
  }

  private record(p: Point, body: any): Record<string, unknown> {
    return { id: p.id, payload: project(p.payload, body.with_payload ?? true), vector: body.with_vector ? projectVector(p.vector, body.with_vector) : null };
  }

  private scroll(c: Collection, body: any): unknown {
    const all = [...c.points.values()].filter((p) => !body.filter || matches(p.payload, body.filter)).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const start = body.offset === undefined || body.offset === null ? 0 : all.findIndex((p) => p.id === body.offset);
    const limit = body.limit ?? 10;
    const page = all.slice(Math.max(0, start), Math.max(0, start) + limit);
    return { points: page.map((p) => this.record(p, body)), next_page_offset: all[Math.max(0, start) + limit]?.id ?? null };
  }

  private query(c: Collection, body: any): unknown {
    const candidates = [...c.points.values()].filter((p) => !body.filter || matches(p.payload, body.filter));
    const q = body.query;
    let scored: Array<{ p: Point; score: number }>;
    if (Array.isArray(q)) {
      const distance = (c.config.vectors as Record<string, { distance?: string }>)[body.using]?.distance ?? 'Cosine';
      const similarity = distance === 'Dot' ? dotProduct : cosine;
      scored = candidates.filter((p) => Array.isArray(p.vector[body.using])).map((p) => ({ p, score: similarity(q, p.vector[body.using] as number[]) }));
    } else {
      // Sparse with modifier idf: score = Σ query_i · idf(i) · doc_i over shared indices.
      const docs = [...c.points.values()]
        .map((p) => p.vector[body.using])
        .filter((v): v is { indices: number[]; values: number[] } => !!v && !Array.isArray(v));
      const idf = (i: number) => {
        const n = docs.filter((d) => d.indices.includes(i)).length;
        return Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      };
      scored = [];
      for (const p of candidates) {
        const d = p.vector[body.using];
        if (!d || Array.isArray(d)) continue;
        let score = 0,
          overlap = false;
        q.indices.forEach((i: number, k: number) => {
          const j = d.indices.indexOf(i);
          if (j >= 0) {
            overlap = true;
            score += q.values[k] * idf(i) * d.values[j]!;
          }
        });
        if (overlap) scored.push({ p, score });
      }
    }
    scored.sort((a, b) => b.score - a.score || String(a.p.id).localeCompare(String(b.p.id)));
    return { points: scored.slice(0, body.limit ?? 10).map(({ p, score }) => ({ ...this.record(p, body), version: 1, score })) };
  }
}

/** A validator that throws (a schema it cannot compile) is an error to report, not a hung request. */
function guarded(check: () => string[]): string[] {
  try {
    return check();
  } catch (error) {
    return [`validator failed: ${(error as Error).message}`];
  }
}

function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

function dotProduct(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

function project(payload: Record<string, unknown>, selector: unknown): Record<string, unknown> | null {
  if (selector === false) return null;
  if (Array.isArray(selector)) return Object.fromEntries(selector.filter((k) => k in payload).map((k) => [k, payload[k]]));
  return payload;
}

function projectVector(vector: Record<string, Vector>, selector: unknown): Record<string, Vector> {
  if (Array.isArray(selector)) return Object.fromEntries(selector.filter((k) => k in vector).map((k) => [k, vector[k]!]));
  return vector;
}

/** Qdrant filter semantics: must = all, should = at least one, must_not = none; arrays match if any element does. */
export function matches(payload: Record<string, unknown>, filter: { must?: Cond | Cond[]; should?: Cond | Cond[]; must_not?: Cond | Cond[] }): boolean {
  const list = (x: Cond | Cond[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const must = list(filter.must),
    should = list(filter.should),
    mustNot = list(filter.must_not);
  return (
    must.every((c) => condition(payload, c)) &&
    (should.length === 0 || should.some((c) => condition(payload, c))) &&
    !mustNot.some((c) => condition(payload, c))
  );
}

function condition(payload: Record<string, unknown>, c: Cond): boolean {
  if ('must' in c || 'should' in c || 'must_not' in c) return matches(payload, c);
  // Dotted keys reach into nested objects, as in Qdrant ("coupon.usable_weekdays").
  const raw = (c.key as string).split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), payload);
  if (raw === undefined || raw === null) return false;
  const values = Array.isArray(raw) ? raw : [raw];
  const m = c.match as { value?: unknown; any?: unknown[] } | undefined;
  if (m && 'value' in m) return values.some((v) => v === m.value);
  if (m && 'any' in m) return values.some((v) => m.any!.includes(v));
  const r = (c.range ?? c.datetime_range) as { lt?: number | string; gt?: number | string; gte?: number | string; lte?: number | string } | undefined;
  if (r) {
    const num = (x: unknown) => (typeof x === 'string' ? Date.parse(x) : (x as number));
    return values.some((v) => {
      const x = num(v);
      return (
        (r.lt === undefined || x < num(r.lt)) &&
        (r.gt === undefined || x > num(r.gt)) &&
        (r.gte === undefined || x >= num(r.gte)) &&
        (r.lte === undefined || x <= num(r.lte))
      );
    });
  }
  const g = c.geo_radius as { center: { lat: number; lon: number }; radius: number } | undefined;
  if (g) return values.some((p) => haversineKm(p as { lat: number; lon: number }, g.center) * 1000 <= g.radius);
  throw new Error(`condition not emulated: ${JSON.stringify(c)}`);
}
