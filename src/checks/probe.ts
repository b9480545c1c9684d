import type { HealthCheckConfig } from '../config/schema.js';
import type { Target } from '../shared/slot.js';
import { execProbe } from './exec-probe.js';
import { httpProbe } from './http-probe.js';
import type { ProbeResult } from './probe-result.js';
import { tcpProbe } from './tcp-probe.js';

export type { ProbeResult } from './probe-result.js';

export type CheckKind = 'http' | 'tcp' | 'exec';

type Prober = (
  target: Target,
  check: HealthCheckConfig,
  options: { timeoutMs: number; signal?: AbortSignal },
) => Promise<ProbeResult>;

const PROBERS = {
  http: (target, check, options) => httpProbe(target, sectionOf(check, 'http'), options),
  tcp: (target, _check, options) => tcpProbe(target, options),
  exec: (target, check, options) => execProbe(target, sectionOf(check, 'exec'), options),
} satisfies Record<CheckKind, Prober>;

/** Which kind of check a (validated) health config describes; http when none is named. */
export function checkKindOf(check: HealthCheckConfig): CheckKind {
  if (check.exec) return 'exec';
  if (check.tcp) return 'tcp';
  return 'http';
}

/** How the check reads in messages: "http check GET /healthz", "tcp check", "exec check `curl …`". */
export function describeCheck(check: HealthCheckConfig): string {
  switch (checkKindOf(check)) {
    case 'http':
      return `http check GET ${check.http?.path ?? '/'}`;
    case 'tcp':
      return 'tcp check';
    case 'exec': {
      const command = check.exec?.command ?? '';
      return `exec check \`${typeof command === 'string' ? command : command.join(' ')}\``;
    }
  }
}

export interface ProbeCallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the check's timeout (e.g. when a deadline is closer). */
  readonly timeoutMs?: number;
}

/** One probe of one target. Never throws: failures are `{ healthy: false, detail }`. */
export function probe(
  target: Target,
  check: HealthCheckConfig,
  options: ProbeCallOptions = {},
): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? check.timeout;
  return PROBERS[checkKindOf(check)](target, check, { timeoutMs, signal: options.signal });
}

function sectionOf<K extends 'http' | 'exec'>(
  check: HealthCheckConfig,
  kind: K,
): NonNullable<HealthCheckConfig[K]> {
  const section = check[kind];
  if (section === undefined) throw new Error(`health check has no ${kind} section`);
  return section;
}
