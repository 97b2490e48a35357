/**
 * Errors as text, for every layer (no dependencies: the Redis subscriber thread loads it too).
 */

/** An error as one line for logs and status reasons: its message (or its name), or the value. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
