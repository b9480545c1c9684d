/**
 * Named places in the engine (and the plug-ins it drives) where a crash must be survivable: between a journaled intent and
 * the traffic move it announces, say. Tests start a server with CUTOVER_TEST_CRASH_AT_POINT set
 * to a point's name; the first time the process passes that point it SIGKILLs itself, on the
 * very code path production runs. Unset (always, outside those tests) a crash point does nothing.
 */
export type EngineCrashPoint =
  | 'unwind.before-move'
  | 'unwind.after-move'
  | 'unwind.after-final'
  /** The route53 router submitted a change batch and has not seen it INSYNC yet. */
  | 'route53.after-submit';

const crashAt = process.env.CUTOVER_TEST_CRASH_AT_POINT;

export function engineCrashPoint(name: EngineCrashPoint): void {
  if (crashAt === name) process.kill(process.pid, 'SIGKILL');
}
