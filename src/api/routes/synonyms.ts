import { parseOrThrow } from '../../domain/validation.ts';
import { NotFoundError } from '../../errors.ts';
import { synonymSetSchema } from '../../synonyms/synonym-set.ts';
import { readJson } from '../body.ts';
import { parseId } from '../params.ts';
import { COMMON_ERRORS, errorResponses, idParam, jsonBody, type RouteSpec, schemaRef } from '../route.ts';

const oneSet = { description: 'the synonym set', ...jsonBody(schemaRef('SynonymSet')) };

/**
 * Synonym sets, by id: multi-way (`{"synonyms": [...]}`) or one-way (`{"root": "tv", "synonyms":
 * ["television"]}`). A write takes effect in this process at once and in every other API process
 * within DEFINITIONS_REFRESH_MS, without a reindex.
 */
export const synonymRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/v1/synonyms',
    scope: 'search',
    summary: 'List the synonym sets',
    responses: { 200: { description: 'every synonym set', ...jsonBody(schemaRef('SynonymList')) }, ...errorResponses(...COMMON_ERRORS) },
    handle(ctx, { engine }) {
      ctx.body = { synonyms: engine.synonyms.list() };
    },
  },
  {
    method: 'GET',
    path: '/v1/synonyms/:id',
    scope: 'search',
    summary: 'One synonym set',
    params: [idParam],
    responses: { 200: oneSet, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    handle(ctx, { engine }) {
      const id = parseId(ctx.params.id);
      const set = engine.synonyms.get(id);
      if (!set) throw new NotFoundError('synonym set', id);
      ctx.body = set;
    },
  },
  {
    method: 'PUT',
    path: '/v1/synonyms/:id',
    scope: 'write',
    summary: 'Create or replace a synonym set (in force at once, no reindex)',
    params: [idParam],
    requestBody: { required: true, ...jsonBody(schemaRef('SynonymSetBody')) },
    responses: { 200: oneSet, ...errorResponses(400, 413, ...COMMON_ERRORS) },
    async handle(ctx, { engine, bodyLimit }) {
      const id = parseId(ctx.params.id);
      const body = parseOrThrow(synonymSetSchema, await readJson(ctx, bodyLimit));
      ctx.body = await engine.synonyms.put(id, body);
    },
  },
  {
    method: 'DELETE',
    path: '/v1/synonyms/:id',
    scope: 'write',
    summary: 'Delete a synonym set',
    params: [idParam],
    responses: { 204: { description: 'deleted' }, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      const id = parseId(ctx.params.id);
      if (!(await engine.synonyms.delete(id))) throw new NotFoundError('synonym set', id);
      ctx.status = 204;
    },
  },
];
