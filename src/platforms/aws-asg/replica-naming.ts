import { createHash } from 'node:crypto';
import type { Slot } from '../../shared/slot.js';

/** Load balancer and target group names: 1–32 letters, digits and hyphens, no hyphen at either end. */
const NAME_MAX = 32;
const HASH_CHARS = 10;

/**
 * The name of the load balancer (and target group) cutover replicates for `release` in `slot`:
 * the same inputs always give the same name, so a provision resumed after a crash finds what its
 * first attempt created. 32 characters leave little room, so the app is shortened and a hash of
 * all three keeps two releases (or two apps) apart.
 */
export function replicaName(app: string, slot: Slot, release: string): string {
  const hash = createHash('sha256').update(`${app}\n${slot}\n${release}`).digest('hex').slice(0, HASH_CHARS);
  const room = NAME_MAX - slot.length - HASH_CHARS - 2;
  const prefix = app
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, room)
    .replace(/-+$/, '');
  return prefix === '' ? `${slot}-${hash}` : `${prefix}-${slot}-${hash}`;
}

/**
 * The name of a copied scaling policy or alarm: the slot's group name, then the original's (both
 * allow 255 characters). Policies carry no tags, so the name is what marks a policy as a copy
 * cutover made (and keeps two groups' copies apart where names are not per group).
 */
export function copiedName(groupName: string, original: string): string {
  const name = `${groupName}/${original}`;
  if (name.length <= 255) return name;
  const hash = createHash('sha256').update(original).digest('hex').slice(0, HASH_CHARS);
  return `${name.slice(0, 255 - HASH_CHARS - 1)}-${hash}`;
}
