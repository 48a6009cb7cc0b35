import { randomUUID } from 'node:crypto';
import { parseOrThrow } from '../../domain/validation.ts';
import { NotFoundError } from '../../errors.ts';
import { ruleSchema } from '../../rules/rule.ts';
import { readJson } from '../body.ts';
import { parseId } from '../params.ts';
import { COMMON_ERRORS, errorResponses, idParam, jsonBody, type RouteSpec, schemaRef } from '../route.ts';

const oneRule = { description: 'the rule', ...jsonBody(schemaRef('Rule')) };
const ruleBody = { required: true, ...jsonBody(schemaRef('RuleBody')) };

/**
 * Merchandising rules: pin, hide, boost or bury coupons for matching queries, in a validity window.
 * A write takes effect in this process at once and in every other API process within
 * DEFINITIONS_REFRESH_MS; search applies them after ranking (`search/stages/rules.ts`).
 */
export const ruleRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/v1/rules',
    scope: 'search',
    summary: 'List the merchandising rules',
    responses: { 200: { description: 'every rule', ...jsonBody(schemaRef('RuleList')) }, ...errorResponses(...COMMON_ERRORS) },
    handle(ctx, { engine }) {
      ctx.body = { rules: engine.rules.list() };
    },
  },
  {
    method: 'POST',
    path: '/v1/rules',
    scope: 'write',
    summary: 'Create a rule (201 with its id)',
    requestBody: ruleBody,
    responses: { 201: oneRule, ...errorResponses(400, 413, ...COMMON_ERRORS) },
    async handle(ctx, { engine, bodyLimit }) {
      const body = parseOrThrow(ruleSchema, await readJson(ctx, bodyLimit));
      ctx.status = 201;
      ctx.body = await engine.rules.put(`rule-${randomUUID().slice(0, 8)}`, body);
    },
  },
  {
    method: 'GET',
    path: '/v1/rules/:id',
    scope: 'search',
    summary: 'One rule',
    params: [idParam],
    responses: { 200: oneRule, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    handle(ctx, { engine }) {
      const id = parseId(ctx.params.id);
      const rule = engine.rules.get(id);
      if (!rule) throw new NotFoundError('rule', id);
      ctx.body = rule;
    },
  },
  {
    method: 'PUT',
    path: '/v1/rules/:id',
    scope: 'write',
    summary: 'Create or replace a rule by id',
    params: [idParam],
    requestBody: ruleBody,
    responses: { 200: oneRule, ...errorResponses(400, 413, ...COMMON_ERRORS) },
    async handle(ctx, { engine, bodyLimit }) {
      const id = parseId(ctx.params.id);
      ctx.body = await engine.rules.put(id, parseOrThrow(ruleSchema, await readJson(ctx, bodyLimit)));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/rules/:id',
    scope: 'write',
    summary: 'Delete a rule',
    params: [idParam],
    responses: { 204: { description: 'deleted' }, ...errorResponses(400, 404, ...COMMON_ERRORS) },
    async handle(ctx, { engine }) {
      const id = parseId(ctx.params.id);
      if (!(await engine.rules.delete(id))) throw new NotFoundError('rule', id);
      ctx.status = 204;
    },
  },
];
