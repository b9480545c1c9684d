import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheckConfig } from '../config/schema.js';
import { formatDuration } from '../shared/duration.js';
import { CutoverError } from '../shared/errors.js';
import type { Target } from '../shared/slot.js';
import { checkKindOf, describeCheck, probe } from './probe.js';

/** A probe never gets less than this, even right at the deadline, so the last result means something. */
const MIN_PROBE_TIMEOUT_MS = 100;

export interface TargetHealth {
  readonly target: Target;
  /** Consecutive passes so far (reset by a failure). */
  readonly passes: number;
  readonly healthy: boolean;
  readonly lastDetail: string;
}

export interface HealthProgress {
  /** Targets that reached the healthy threshold. */
  readonly healthy: number;
  readonly total: number;
  /** One line for people: "1/2 healthy; green-1-v2: connection refused". */
  readonly detail: string;
  readonly targets: readonly TargetHealth[];
}

export interface WaitUntilHealthyOptions {
  /** How long the targets have to become healthy; the check's `deadline` when not given. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  /** Called after every round of probes. */
  readonly onProgress?: (status: HealthProgress) => void;
  /** Asked about targets that fail; false (the process died) fails at once instead of at the deadline. */
  readonly isAlive?: (targetId: string) => Promise<boolean>;
}

interface MutableTargetHealth {
  target: Target;
  passes: number;
  healthy: boolean;
  lastDetail: string;
}

/**
 * Probes every `interval` until each target has passed `healthyThreshold` times in a row.
 * Rejects with CUTOVER_E_HEALTH at the deadline or as soon as a target's process is gone,
 * and with CUTOVER_E_ABORTED when the signal fires.
 */
export async function waitUntilHealthy(
  targets: readonly Target[],
  check: HealthCheckConfig,
  options: WaitUntilHealthyOptions = {},
): Promise<HealthProgress> {
  const deadlineMs = options.deadlineMs ?? check.deadline;
  const deadlineAt = Date.now() + deadlineMs;
  const states: MutableTargetHealth[] = targets.map((target) => ({
    target,
    passes: 0,
    healthy: false,
    lastDetail: 'not probed yet',
  }));
  for (;;) {
    throwIfAborted(options.signal);
    const pending = states.filter((state) => !state.healthy);
    const timeoutMs = Math.min(check.timeout, Math.max(deadlineAt - Date.now(), MIN_PROBE_TIMEOUT_MS));
    const results = await Promise.all(
      pending.map((state) => probe(state.target, check, { timeoutMs, signal: options.signal })),
    );
    throwIfAborted(options.signal);
    pending.forEach((state, i) => {
      const result = results[i]!;
      state.lastDetail = result.detail;
      state.passes = result.healthy ? state.passes + 1 : 0;
      state.healthy = state.passes >= check.healthyThreshold;
    });
    const status = progressOf(states);
    options.onProgress?.(status);
    if (status.healthy === status.total) return status;

    if (options.isAlive) {
      const failing = states.filter((state) => !state.healthy && state.passes === 0);
      const alive = await Promise.all(failing.map((state) => options.isAlive!(state.target.id)));
      const dead = failing.find((_state, i) => !alive[i]);
      if (dead)
        throw healthError(check, dead, `exited before it passed the ${describeCheck(check)}`, {
          exited: true,
        });
    }

    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) {
      const failing = states.find((state) => !state.healthy)!;
      const others = states.filter((state) => !state.healthy).length - 1;
      const more = others > 0 ? ` (and ${others} more)` : '';
      throw healthError(
        check,
        failing,
        `did not pass the ${describeCheck(check)} within ${formatDuration(deadlineMs)}${more}`,
        {},
      );
    }
    await sleep(Math.min(check.interval, remaining), undefined, { signal: options.signal }).catch(
      (error: unknown) => {
        // An aborted sleep is reported by throwIfAborted at the top of the loop.
        if (!options.signal?.aborted) throw error;
      },
    );
  }
}

function progressOf(states: readonly MutableTargetHealth[]): HealthProgress {
  const healthy = states.filter((state) => state.healthy).length;
  const waiting = states
    .filter((state) => !state.healthy)
    .map((state) => `${state.target.id}: ${state.lastDetail}`);
  const detail = [`${healthy}/${states.length} healthy`, ...waiting].join('; ');
  return { healthy, total: states.length, detail, targets: states.map((state) => ({ ...state })) };
}

function healthError(
  check: HealthCheckConfig,
  state: MutableTargetHealth,
  what: string,
  extra: Record<string, unknown>,
): CutoverError {
  const { target } = state;
  return new CutoverError(
    'CUTOVER_E_HEALTH',
    `${target.id} (${target.host}:${target.port}) ${what}: last result: ${state.lastDetail}`,
    {
      details: {
        check: checkKindOf(check),
        target: target.id,
        address: `${target.host}:${target.port}`,
        lastDetail: state.lastDetail,
        ...extra,
      },
    },
  );
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CutoverError('CUTOVER_E_ABORTED', 'waiting for the instances to become healthy was aborted', {
      cause: signal.reason,
    });
  }
}
