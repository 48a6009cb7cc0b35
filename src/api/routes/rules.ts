import { ruleSchema } from '../../rules/rule.ts';
import { definitionRoutes } from './definitions.ts';

/**
 * Merchandising rules (`/v1/rules`): pin, hide, boost or bury coupons for matching queries, in a
 * validity window; search applies them after ranking (`search/stages/rules.ts`).
 */
export const ruleRoutes = definitionRoutes({
  path: '/v1/rules',
  noun: 'rule',
  audit: 'rule',
  listKey: 'rules',
  schemaName: 'Rule',
  schema: ruleSchema,
  cache: (engine) => engine.rules,
  create: { idPrefix: 'rule' },
});
