import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: object }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  operation: Operation;
}

/**
 * Validates HTTP requests and responses against an OpenAPI 3.0 document (here Qdrant's own spec):
 * the method and path must name an operation, query parameters must be declared and typed, and
 * JSON bodies must match the operation's schemas (`nullable`, `$ref`, numeric formats included).
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly cache = new Map<object, ValidateFunction>();

  constructor(specPath: string) {
    const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { paths: Record<string, Record<string, Operation>>; components: object };
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    const int = (min: number, max: number) => ({ type: 'number' as const, validate: (x: number) => Number.isInteger(x) && x >= min && x <= max });
    this.ajv.addFormat('uint', int(0, Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('uint64', int(0, Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('uint32', int(0, 2 ** 32 - 1));
    this.ajv.addFormat('uint8', int(0, 255));
    this.ajv.addFormat('int64', int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    this.ajv.addFormat('float', { type: 'number', validate: (x: number) => Number.isFinite(x) });
    this.ajv.addFormat('double', { type: 'number', validate: (x: number) => Number.isFinite(x) });
    this.ajv.addFormat('binary', true);
    this.ajv.addFormat('partial-date-time', true);
    this.ajv.addSchema({ $id: 'spec', components: toJsonSchema(spec.components) });
    this.routes = Object.entries(spec.paths).flatMap(([template, ops]) =>
      Object.entries(ops).map(([method, operation]) => ({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        operation,
      })),
    );
  }

  /** The operation for a request, preferring literal path segments over parameters. */
  route(method: string, path: string): Route | undefined {
    const candidates = this.routes.filter((r) => r.method === method && r.pattern.test(path));
    return candidates.sort((a, b) => (b.template.match(/\{/g)?.length ?? 0) - (a.template.match(/\{/g)?.length ?? 0)).at(-1);
  }

  /** `bodyType`: a body that is not JSON (a multipart upload): only its being declared is checked. */
  validateRequest(method: string, path: string, query: URLSearchParams, body: unknown, bodyType?: string): string[] {
    const route = this.route(method, path);
    if (!route) return [`no operation ${method} ${path} in the spec`];
    const errors: string[] = [];
    for (const [name, value] of query) {
      const param = route.operation.parameters?.find((p) => p.in === 'query' && p.name === name);
      if (!param) {
        errors.push(`query parameter '${name}' is not declared for ${method} ${route.template}`);
        continue;
      }
      const coerced = value === 'true' ? true : value === 'false' ? false : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      errors.push(...this.check(param.schema, coerced, `query.${name}`));
    }
    if (bodyType) {
      if (!route.operation.requestBody?.content[bodyType]) errors.push(`${method} ${route.template} takes no ${bodyType} body`);
      return errors;
    }
    const schema = route.operation.requestBody?.content['application/json']?.schema;
    if (schema) {
      if (body === undefined) errors.push(`${method} ${route.template} needs a JSON body`);
      else errors.push(...this.check(schema, body, 'body'));
    } else if (body !== undefined) errors.push(`${method} ${route.template} takes no body`);
    return errors;
  }

  /** `bodyType`: a response that is not JSON (a snapshot download): only its being declared is checked. */
  validateResponse(method: string, path: string, status: number, body: unknown, bodyType?: string): string[] {
    const route = this.route(method, path);
    if (!route) return [`no operation ${method} ${path} in the spec`];
    const response = route.operation.responses[String(status)] ?? route.operation.responses.default;
    if (bodyType) return response?.content?.[bodyType] ? [] : [`no ${bodyType} response ${status} for ${method} ${route.template}`];
    const schema = response?.content?.['application/json']?.schema;
    if (!schema) return [`no JSON response ${status} for ${method} ${route.template}`];
    return this.check(schema, body, 'response');
  }

  private check(schema: object, value: unknown, where: string): string[] {
    let validate = this.cache.get(schema);
    if (!validate) {
      // Local refs (#/components/...) resolve against the whole spec, registered as 'spec'.
      const rewritten = toJsonSchema(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/')));
      validate = this.ajv.compile(rewritten);
      this.cache.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 5).map((e) => `${where}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
  }
}

/**
 * OpenAPI 3.0's `nullable` as JSON Schema: `{type: T, nullable: true}` becomes `{type: [T, 'null']}`
 * and a bare `{nullable: true}` (Qdrant writes `anyOf: [{$ref}, {nullable: true}]`) means null.
 */
function toJsonSchema(node: any): any {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = toJsonSchema(v);
  if (node.nullable === true) {
    if (typeof node.type === 'string') out.type = [node.type, 'null'];
    else if ((node.type === undefined && Object.keys(out).length === 0) || (Object.keys(out).length === 1 && 'description' in out)) out.type = 'null';
  }
  return out;
}
