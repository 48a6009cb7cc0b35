import type { Config } from '../config.ts';
import type { EventStore } from './event-store.ts';
import { FileEventStore } from './file-event-store.ts';
import { PostgresEventStore } from './postgres-event-store.ts';

export function createEventStore(config: Config['events']): EventStore {
  switch (config.kind) {
    case 'postgres':
      return new PostgresEventStore({ url: config.url, tablePrefix: config.tablePrefix });
    case 'file':
      return new FileEventStore(config.path);
  }
}
