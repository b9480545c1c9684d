import { createHash } from 'node:crypto';
import type { Slot } from '../../shared/slot.js';

/** Launch template names allow 3–128 of these; group names are looser, so one name serves both. */
const NAME_UNSAFE = /[^A-Za-z0-9._-]/g;
const NAME_MAX = 128;
const HASH_CHARS = 10;

/**
 * The name of the group (and of its launch template) holding `release` in `slot`. The same
 * inputs always give the same name, so a provision resumed after a crash finds what the first
 * attempt created instead of making a second one. A release that had to be shortened or
 * cleaned up gets a hash of the original, so two releases never share a name.
 */
export function groupName(app: string, slot: Slot, release: string): string {
  const prefix = `cutover-${clean(app)}-${slot}-`;
  const cleaned = clean(release);
  const exact = cleaned === release && prefix.length + cleaned.length <= NAME_MAX;
  if (exact) return prefix + cleaned;
  const hash = createHash('sha256').update(release).digest('hex').slice(0, HASH_CHARS);
  const room = Math.max(0, NAME_MAX - prefix.length - HASH_CHARS - 1);
  return `${prefix}${cleaned.slice(0, room)}-${hash}`;
}

function clean(text: string): string {
  return text.replace(NAME_UNSAFE, '_');
}
