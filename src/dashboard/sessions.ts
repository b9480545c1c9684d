/**
 * Browser sessions of the dashboard, in memory: a restart of the server logs everyone out,
 * which is the safe direction. The cookie holds a random id; the CSRF token is a second random
 * value the page reads from its HTML and sends back in a header.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** More sessions than this drops the oldest: a login loop cannot grow memory without bound. */
const MAX_SESSIONS = 1000;

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrfToken: string;
  /** How the user logged in; a password session also remembers the hash it was checked against. */
  readonly via: { readonly kind: 'admin-token' } | { readonly kind: 'password'; readonly hash: string };
  readonly expiresAt: number;
}

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  create(user: string, via: Session['via']): Session {
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      via,
      expiresAt: this.now() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(session.id, session);
    while (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    return session;
  }

  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }
}

export function csrfTokenMatches(session: Session, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
