/** Control requests from the browser: same origin, under the URL prefix. Plain JSON answers. */

export interface WorkerOutcome {
  ok: boolean;
  message: string;
}

export interface ActionResult {
  ok: boolean;
  status: number;
  message: string;
  workers: Record<string, WorkerOutcome>;
}

export function apiUrl(path: string): string {
  return `${process.env.NEXT_PUBLIC_CELERIAC_URL_PREFIX ?? ''}${path}`;
}

/** POST a control action; never throws (network errors become a failed result). */
export async function postAction(path: string, form?: Record<string, string>): Promise<ActionResult> {
  try {
    const res = await fetch(apiUrl(path), {
      method: 'POST',
      credentials: 'same-origin',
      headers: form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : undefined,
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    let body: { message?: unknown; error?: unknown; workers?: unknown } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      /* not JSON */
    }
    const workers = body.workers && typeof body.workers === 'object' ? (body.workers as Record<string, WorkerOutcome>) : {};
    const text = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    return { ok: res.ok, status: res.status, message: text, workers };
  } catch (error) {
    return { ok: false, status: 0, message: `Request failed: ${String(error)}`, workers: {} };
  }
}
