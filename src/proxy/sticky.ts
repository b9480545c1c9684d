/** The sticky cookie keeps one client on one version while a weighted shift is under way. */
import type { Slot } from '../shared/slot.js';

/** Reads `name=blue|green` from a Cookie header value without allocating a parsed map. */
export function stickySlotFromCookie(cookieHeader: string | undefined, name: string): Slot | undefined {
  if (cookieHeader === undefined) return undefined;
  let index = cookieHeader.indexOf(name);
  while (index !== -1) {
    const before = index === 0 ? ' ' : cookieHeader.charAt(index - 1);
    const after = index + name.length;
    if ((before === ' ' || before === ';') && cookieHeader.charAt(after) === '=') {
      const value = cookieHeader.slice(after + 1, after + 6);
      if (value === 'green') return 'green';
      if (value.startsWith('blue')) return 'blue';
      return undefined;
    }
    index = cookieHeader.indexOf(name, index + 1);
  }
  return undefined;
}

export function stickyCookieHeader(name: string, slot: Slot): string {
  return `${name}=${slot}; Path=/; HttpOnly; SameSite=Lax`;
}
