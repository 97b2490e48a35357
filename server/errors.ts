/**
 * Errors as text, for every layer (no dependencies: the Redis subscriber thread loads it too).
 */

/** An error as one line for logs and status reasons: its message (or its name), or the value. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * A request Celeriac refuses, and the HTTP status that says why (400 bad input, 404 unknown
 * worker or task, 409 conflict, 503 not possible now). Any layer may throw it — the API's
 * parameter parsing, the control layer's checks — and the HTTP layer answers `{"error": message}`
 * with that status (server/http/api.ts, apiErrorHandler).
 */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
