import { probe } from '../checks/probe.js';
import type { HealthCheckConfig } from '../config/schema.js';
import { CutoverError } from '../shared/errors.js';
import type { Target } from '../shared/slot.js';

/**
 * One round of probes of every target: the last look before traffic moves onto a slot
 * (invariant 1: live traffic only reaches instances that pass their checks).
 */
export async function assertAllHealthy(
  targets: readonly Target[],
  check: HealthCheckConfig,
  what: string,
): Promise<void> {
  if (targets.length === 0) {
    throw new CutoverError('CUTOVER_E_HEALTH', `${what} has no running instances`);
  }
  const results = await Promise.all(
    targets.map(async (target) => ({ target, result: await probe(target, check) })),
  );
  const failing = results.find(({ result }) => !result.healthy);
  if (failing) {
    throw new CutoverError(
      'CUTOVER_E_HEALTH',
      `${what}: ${failing.target.id} (${failing.target.host}:${failing.target.port}) failed its ${checkName(check)} check: ${failing.result.detail}`,
      { details: { check: checkName(check), target: failing.target.id } },
    );
  }
}

export function checkName(check: HealthCheckConfig): string {
  if (check.exec) return 'exec';
  if (check.tcp) return 'tcp';
  return `http GET ${check.http?.path ?? '/'}`;
}
