import type { RoutingReadBack } from '../shared/store.js';

/**
 * Whether the last traffic move was read back from the data plane, as `status` shows it: a
 * plain `verified`, and when not, why not (invariant 6: an unchecked move is never silent).
 */
export interface MoveVerification {
  readonly verified: boolean;
  readonly state: RoutingReadBack['kind'] | 'unknown';
  /** Why the move is not verified (absent when it is). */
  readonly reason?: string;
  /** When the read-back found this (or since when it has been waiting). */
  readonly at?: string;
}

export function moveVerification(readBack: RoutingReadBack | undefined): MoveVerification {
  if (readBack === undefined) {
    return {
      verified: false,
      state: 'unknown',
      reason: 'no read-back recorded: no move yet, or the last one was made by an older cutover',
    };
  }
  switch (readBack.kind) {
    case 'verified':
      return { verified: true, state: 'verified', at: readBack.at };
    case 'unverifiable':
      return {
        verified: false,
        state: 'unverifiable',
        reason: `the router cannot read its data plane back: ${readBack.reason}`,
        at: readBack.at,
      };
    case 'converging':
      return {
        verified: false,
        state: 'converging',
        reason: `waiting for the router to settle: ${readBack.seen}`,
        at: readBack.since,
      };
    case 'pending':
      return {
        verified: false,
        state: 'pending',
        reason: 'the last move has not been read back (it is under way, or it failed and is retried)',
        at: readBack.since,
      };
  }
}
