/** The deployment state machine of DESIGN.md, as data. */
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
};

export function canTransition(from: Phase, to: Phase): boolean {
  if (from === to) return true; // idempotent re-entry after a crash
  if (to === 'aborted') return ABORTABLE_PHASES.has(from);
  if (to === 'rolled-back') return ROLLBACKABLE_PHASES.has(from);
  return FORWARD[from].includes(to);
}

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.has(phase);
}
