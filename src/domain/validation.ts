import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.ts';

/** Turns zod issues into field-named issues: `filter.and.0.geo.radius_km: must be ≤ 20000`. */
export function toFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    // An unrecognized key is reported on its parent; name the key itself.
    if (issue.code === 'unrecognized_keys') path.push(...issue.keys);
    const field = [prefix, ...path].filter((p) => p !== undefined && p !== '').join('.');
    return { field: field || prefix || '(body)', message: issue.message };
  });
}

/** Parses `input` with `schema`, throwing a ValidationError that names the failing fields. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(toFieldIssues(result.error, prefix));
  return result.data;
}
