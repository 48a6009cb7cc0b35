import { synonymSetSchema } from '../../synonyms/synonym-set.ts';
import { definitionRoutes } from './definitions.ts';

/**
 * Synonym sets (`/v1/synonyms`), by id: multi-way (`{"synonyms": [...]}`) or one-way
 * (`{"root": "tv", "synonyms": ["television"]}`); search expands queries with them, no reindex.
 */
export const synonymRoutes = definitionRoutes({
  path: '/v1/synonyms',
  noun: 'synonym set',
  audit: 'synonyms',
  listKey: 'synonyms',
  schemaName: 'SynonymSet',
  schema: synonymSetSchema,
  cache: (engine) => engine.synonyms,
});
