import path from 'node:path';
import type { Config } from '../config.ts';
import type { DefinitionStore } from './definition-store.ts';
import { FileDefinitionStore } from './file-definition-store.ts';
import { PostgresDefinitionStore } from './postgres-definition-store.ts';

/** Definitions live where the events do: PostgreSQL when DATABASE_URL is set, else a file in DATA_DIR. */
export function createDefinitionStore(config: Pick<Config, 'events' | 'dataDir'>): DefinitionStore {
  switch (config.events.kind) {
    case 'postgres':
      return new PostgresDefinitionStore({ url: config.events.url, tablePrefix: config.events.tablePrefix });
    case 'file':
      return new FileDefinitionStore(path.join(config.dataDir, 'definitions.json'));
  }
}
