/**
 * `--store <url>`: where Celeriac keeps its history. `memory` keeps nothing across restarts;
 * `sqlite:<path>` is an embedded database file; `postgresql://…` (or `postgres://…`) a server.
 */
export type StoreTarget = { kind: 'memory' } | { kind: 'sqlite'; file: string } | { kind: 'postgresql'; url: string; redacted: string };

export class StoreUrlError extends Error {}

export function parseStoreUrl(value: string): StoreTarget {
  const text = value.trim();
  if (text === 'memory') return { kind: 'memory' };
  if (text.startsWith('sqlite:')) {
    const file = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new StoreUrlError('--store sqlite: needs a file path, e.g. sqlite:/var/lib/celeriac/celeriac.db');
    return { kind: 'sqlite', file };
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new StoreUrlError(`--store: not a valid PostgreSQL URL: ${JSON.stringify(redact(text))}`);
    }
    if (url.pathname === '/' || url.pathname === '') throw new StoreUrlError('--store postgresql:// needs a database name, e.g. postgresql://celeriac@db:5432/celeriac');
    return { kind: 'postgresql', url: text, redacted: redact(text) };
  }
  throw new StoreUrlError(`--store must be memory, sqlite:<path> or postgresql://user@host:port/database (got ${JSON.stringify(redact(text))})`);
}

/** The URL with any password masked, for logs and the status page. */
function redact(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}

/** How the store is named in the status and the log. */
export function describeStore(target: StoreTarget): string {
  return target.kind === 'memory' ? 'memory' : target.kind === 'sqlite' ? `sqlite:${target.file}` : target.redacted;
}
