/** The deployment state machine of DESIGN.md, as data. The store and the engine both obey it. */
export const PHASES = [
  'pending',
  'provisioning',
  'verifying',
  'awaiting-promotion',
  'shifting',
  'promoted',
  'draining',
  'standby',
  'retired',
  'aborted',
  'rolled-back',
  'aborting',
  'rolling-back',
] as const;
export type Phase = (typeof PHASES)[number];

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(['retired', 'aborted', 'rolled-back']);

/** Phases before traffic is committed to the new slot: a failure here aborts. */
export const ABORTABLE_PHASES: ReadonlySet<Phase> = new Set([
  'pending',
  'provisioning',
  'verifying',
  'awaiting-promotion',
  'shifting',
]);

/** Phases in which the old slot is still warm: rollback is a traffic move. */
export const ROLLBACKABLE_PHASES: ReadonlySet<Phase> = new Set(['promoted', 'draining', 'standby']);

/**
 * Journaled intent to put traffic back on the old slot. The run retries the move until the
 * router verifies it (after a crash too), and only then writes the final phase.
 */
export type UnwindingPhase = 'aborting' | 'rolling-back';
export const FINAL_PHASE_OF: Readonly<Record<UnwindingPhase, Phase>> = {
  aborting: 'aborted',
  'rolling-back': 'rolled-back',
};

/** Phases in which the run holds the app's lease (invariant 3); standby has let it go. */
export const LEASED_PHASES: ReadonlySet<Phase> = new Set([
  ...ABORTABLE_PHASES,
  'promoted',
  'draining',
  'aborting',
  'rolling-back',
]);

const FORWARD: Record<Phase, readonly Phase[]> = {
  pending: ['provisioning'],
  provisioning: ['verifying'],
  verifying: ['awaiting-promotion', 'shifting'],
  'awaiting-promotion': ['shifting'],
  shifting: ['promoted'],
  promoted: ['draining'],
  draining: ['standby'],
  standby: ['retired'],
  retired: [],
  aborted: [],
  'rolled-back': [],
  aborting: [],
  'rolling-back': [],
};

export function canTransition(from: Phase, to: Phase): boolean {
  if (from === to) return true; // idempotent re-entry after a crash
  if (to === 'aborting') return ABORTABLE_PHASES.has(from);
  if (to === 'rolling-back') return ROLLBACKABLE_PHASES.has(from);
  // The engine always passes through the intent phase; a direct move stays valid for records
  // written by earlier versions.
  if (to === 'aborted') return from === 'aborting' || ABORTABLE_PHASES.has(from);
  if (to === 'rolled-back') return from === 'rolling-back' || ROLLBACKABLE_PHASES.has(from);
  return FORWARD[from].includes(to);
}

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.has(phase);
}

export function isUnwinding(phase: Phase): phase is UnwindingPhase {
  return phase === 'aborting' || phase === 'rolling-back';
}
