/**
 * Resolves on the event loop's next turn, after the I/O callbacks waiting now (`setImmediate`), so
 * that long work done in slices lets HTTP requests in between them. Awaiting a resolved promise
 * does not: promise callbacks run back to back before any I/O.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
