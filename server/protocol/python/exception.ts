/**
 * Python exception reprs as Celery's task-failed events carry them (`ValueError('boom')`).
 * The start of the `protocol/python/` package, where Celeriac's Python compatibility lives.
 */

/** The exception's class name (celery-exporter's `exception` label), or UnknownException. */
export function exceptionClass(exception: string | null): string {
  const match = exception === null ? null : /^(\w+)\(/.exec(exception);
  return match ? (match[1] as string) : 'UnknownException';
}
