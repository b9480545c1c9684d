/** The deployment phases of DESIGN.md. Which may follow which is the engine's rule (engine/transitions.ts). */
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

export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.has(phase);
}

export function isUnwinding(phase: Phase): phase is UnwindingPhase {
  return phase === 'aborting' || phase === 'rolling-back';
}
