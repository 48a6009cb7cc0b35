import { UnavailableError } from '../../errors.ts';

/** Maps LanceDB's I/O failures to the domain's UnavailableError, once, at the adapter boundary. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    const message = (error as Error).message ?? String(error);
    if (/No such file|not found|IO error|LanceError\(IO\)|Permission denied/i.test(message)) {
      throw new UnavailableError('store', message.slice(0, 300), { cause: error });
    }
    // Concurrent commits (another process indexing or optimizing): the caller may simply retry.
    if (/Retryable commit conflict/i.test(message)) throw new UnavailableError('store', message.slice(0, 300), { cause: error, retryAfterSeconds: 1 });
    throw error;
  }
}
