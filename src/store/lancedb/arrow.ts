import { createRequire } from 'node:module';

/**
 * Apache Arrow as LanceDB loads it. The package ships an ES-module build and a CommonJS one;
 * LanceDB requires the CommonJS one and recognises tables by `instanceof` its classes, so a table
 * built from the ES-module copy is taken apart and rebuilt there, and the rebuild rejects it. The
 * schemas and rows this adapter hands LanceDB are built from this copy.
 */
export const arrow: typeof import('apache-arrow') = createRequire(import.meta.url)('apache-arrow');
