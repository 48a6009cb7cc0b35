import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { DefinitionCache } from '../../definitions/definition-cache.ts';
import type { Engine } from '../../engine.ts';
import { parseOrThrow } from '../../domain/validation.ts';
import { NotFoundError } from '../../errors.ts';
import { audit } from '../audit.ts';
import { readJson } from '../body.ts';
import { parseId } from '../params.ts';
import { COMMON_ERRORS, errorResponses, idParam, jsonBody, type RouteSpec, schemaRef } from '../route.ts';

/**
 * The REST surface of one kind of definition (synonym sets, rules): list, read, replace by id and
 * delete, and — when `create` is on — POST with a generated id (201). Reads need the search scope,
 * changes the write scope; a write is in force in this process at once and in the others within
 * DEFINITIONS_REFRESH_MS.
 */
export function definitionRoutes<S extends z.ZodType<object>>(kind: {
  /** `/v1/rules` */
  path: string;
  /** "rule", for messages and summaries. */
  noun: string;
  /** The list's key in `GET <path>` and the OpenAPI schema names (`<Name>`, `<Name>Body`, `<Name>List`). */
  listKey: string;
  schemaName: string;
  schema: S;
  cache: (engine: Engine) => DefinitionCache<z.output<S>, unknown>;
  /** The audit log's name for changes to it (`rule.put`, `synonyms.delete`…). */
  audit: 'rule' | 'synonyms';
  /** POST <path> creates one with a generated id, `<idPrefix>-<8 hex>`. */
  create?: { idPrefix: string };
}): RouteSpec[] {
  const one = { description: `the ${kind.noun}`, ...jsonBody(schemaRef(kind.schemaName)) };
  const body = { required: true, ...jsonBody(schemaRef(`${kind.schemaName}Body`)) };
  const routes: RouteSpec[] = [
    {
      method: 'GET',
      path: kind.path,
      scope: 'search',
      spansTenants: true,
      summary: `List the ${kind.noun}s`,
      responses: { 200: { description: `every ${kind.noun}`, ...jsonBody(schemaRef(`${kind.schemaName}List`)) }, ...errorResponses(...COMMON_ERRORS) },
      handle(ctx, { engine }) {
        ctx.body = { [kind.listKey]: kind.cache(engine).list() };
      },
    },
    {
      method: 'GET',
      path: `${kind.path}/:id`,
      scope: 'search',
      spansTenants: true,
      summary: `One ${kind.noun}`,
      params: [idParam],
      responses: { 200: one, ...errorResponses(400, 404, ...COMMON_ERRORS) },
      handle(ctx, { engine }) {
        const id = parseId(ctx.params.id);
        const found = kind.cache(engine).get(id);
        if (!found) throw new NotFoundError(kind.noun, id);
        ctx.body = found;
      },
    },
    {
      method: 'PUT',
      path: `${kind.path}/:id`,
      scope: 'write',
      summary: `Create or replace a ${kind.noun} by id (in force at once, no reindex)`,
      params: [idParam],
      requestBody: body,
      responses: { 200: one, ...errorResponses(400, 413, ...COMMON_ERRORS) },
      async handle(ctx, { engine, bodyLimit }) {
        const id = parseId(ctx.params.id);
        const definition = parseOrThrow(kind.schema, await readJson(ctx, bodyLimit));
        ctx.body = await kind.cache(engine).put(id, definition);
        audit(ctx, { action: `${kind.audit}.put`, target: id, change: definition });
      },
    },
    {
      method: 'DELETE',
      path: `${kind.path}/:id`,
      scope: 'write',
      summary: `Delete a ${kind.noun}`,
      params: [idParam],
      responses: { 204: { description: 'deleted' }, ...errorResponses(400, 404, ...COMMON_ERRORS) },
      async handle(ctx, { engine }) {
        const id = parseId(ctx.params.id);
        if (!(await kind.cache(engine).delete(id))) throw new NotFoundError(kind.noun, id);
        audit(ctx, { action: `${kind.audit}.delete`, target: id });
        ctx.status = 204;
      },
    },
  ];
  const { create } = kind;
  if (create)
    routes.splice(1, 0, {
      method: 'POST',
      path: kind.path,
      scope: 'write',
      summary: `Create a ${kind.noun} (201 with its id)`,
      requestBody: body,
      responses: { 201: one, ...errorResponses(400, 413, ...COMMON_ERRORS) },
      async handle(ctx, { engine, bodyLimit }) {
        const parsed = parseOrThrow(kind.schema, await readJson(ctx, bodyLimit));
        const id = `${create.idPrefix}-${randomUUID().slice(0, 8)}`;
        ctx.status = 201;
        ctx.body = await kind.cache(engine).put(id, parsed);
        audit(ctx, { action: `${kind.audit}.put`, target: id, change: parsed });
      },
    });
  return routes;
}
