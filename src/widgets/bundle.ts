import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of /widgets/v1.js, in order: the shared list element and the two simple widgets, then the search box and the registrations. */
const PARTS = ['coupon-list.js', 'search-box.js'];

/** The widget bundle as served: one ES module, no imports, no build step (the parts are concatenated). */
export function widgetBundle(): string {
  return PARTS.map((name) => readFileSync(path.join(import.meta.dirname, name), 'utf8')).join('\n');
}
