/** HTTP basic auth, checked in constant time against every configured user. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuthUser } from '../config/config';

function digest(text: string): Buffer {
  // Hash first so both sides have the same length and the comparison leaks nothing.
  return createHash('sha256').update(text, 'utf8').digest();
}

export function basicAuthChecker(users: readonly BasicAuthUser[]): (authorization: string | undefined) => boolean {
  const expected = users.map((u) => digest(`${u.user}:${u.password}`));
  return (authorization) => {
    if (expected.length === 0) return true;
    if (!authorization || !/^basic /i.test(authorization)) return false;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const given = digest(decoded);
    let ok = false;
    for (const candidate of expected) ok = timingSafeEqual(candidate, given) || ok;
    return ok;
  };
}

/** The user name of a Basic Authorization header (for the audit log), or null. */
export function basicAuthUser(authorization: string | undefined): string | null {
  if (!authorization || !/^basic /i.test(authorization)) return null;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : null;
}

/** `Authorization: Bearer <token>`, compared in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  if (!authorization || !/^bearer /i.test(authorization)) return false;
  return timingSafeEqual(digest(authorization.slice(7).trim()), digest(token));
}
