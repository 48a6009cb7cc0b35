import type { Context } from 'koa';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

/**
 * Reads a JSON request body, refusing more than `limitBytes` (413) before reading it when the
 * length is declared, and while reading it when it is not.
 */
export async function readJson(ctx: Context, limitBytes: number, options: { allowTextPlain?: boolean } = {}): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (declared > limitBytes) {
    ctx.req.resume(); // drain, so the 413 reaches the client instead of a reset
    throw new PayloadTooLargeError(limitBytes);
  }
  const type = ctx.get('content-type');
  // text/plain only where browsers beacon JSON cross-origin (a "simple" request needs no preflight).
  if (type && !/^application\/(.+\+)?json\b/i.test(type) && !(options.allowTextPlain && /^text\/plain\b/i.test(type))) {
    throw new ValidationError([{ field: 'content-type', message: `must be application/json, got ${type}` }]);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      ctx.req.resume();
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new ValidationError([{ field: 'body', message: 'a JSON body is required' }]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ field: 'body', message: `invalid JSON: ${(error as Error).message}` }]);
  }
}
