/**
 * Python exception reprs as Celery's task-failed events carry them (`ValueError('boom')`).
 * Part of the `protocol/python/` package, where Celeriac's Python compatibility lives: the value
 * model (value.ts), the literal parser (literal.ts), repr()/str() (repr.ts), JSON (json.ts), str
 * semantics (str.ts) and Celery's saferepr (saferepr.ts). It is the bottom layer: it imports
 * nothing from state/, control/, http/, realtime/ or metrics/.
 */

/** The exception's class name (celery-exporter's `exception` label), or UnknownException. */
export function exceptionClass(exception: string | null): string {
  const match = exception === null ? null : /^(\w+)\(/.exec(exception);
  return match ? (match[1] as string) : 'UnknownException';
}
