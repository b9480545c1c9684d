/**
 * The VCL cutover generates: one per target state. Both slots' instances are backends with a
 * health probe, each slot is a round-robin director, and `vcl_recv` sends a request to the
 * live slot (a random director with weights during a shift), or, with the preview header
 * exactly `<slot>:<preview token>`, to that slot; any other value goes live, and the header is
 * removed before the backend sees it. Every request is passed: moving traffic is not a cache
 * policy.
 *
 * The state the VCL was made from sits in a header comment, so verify() can read it back from
 * varnishd with `vcl.show` (and a restarted cutover can pick up where it was).
 */
import { createHash } from 'node:crypto';
import { CutoverError } from '../../shared/errors.js';
import { SLOTS, type Slot, type SlotTargets, type Target, type Weights } from '../../shared/slot.js';

export interface VclState {
  readonly targets: SlotTargets;
  /** null before the first move: live traffic goes nowhere (503) until a slot is chosen. */
  readonly weights: Weights | null;
}

export interface VclOptions {
  readonly previewHeader: string;
  /**
   * Appended to the slot name in the preview header value (`green:<token>`). null renders no
   * preview route at all: the boot VCL, a file varnishd's jail must read, holds no secret.
   */
  readonly previewToken: string | null;
  readonly probe: {
    readonly path: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly window: number;
    readonly threshold: number;
  };
}

const STATE_MARK = '# cutover-state: ';
/** Every VCL cutover loads is named `cutover-…`; anything else in `vcl.list` is left alone. */
export const VCL_NAME_PREFIX = 'cutover-';
const HOST = /^[A-Za-z0-9.:-]+$/;

export function backendName(slot: Slot, index: number): string {
  return `cutover_${slot}_${index}`;
}

/** The header value that reaches `slot` through the preview route. */
export function previewValue(slot: Slot, token: string): string {
  return `${slot}:${token}`;
}

export function renderVcl(state: VclState, options: VclOptions): string {
  const lines: string[] = [
    'vcl 4.1;',
    `${STATE_MARK}${JSON.stringify({ weights: state.weights, targets: state.targets })}`,
    '# Written by cutover: a hand edit lasts until the next switch.',
    '# Every request is passed (no caching): cutover moves traffic, it is not a cache policy.',
    '',
    'import directors;',
    '',
  ];
  // VCC refuses an unused probe, so there is none before any slot has instances.
  if (state.targets.blue.length + state.targets.green.length > 0) {
    lines.push(
      'probe cutover_probe {',
      `    .url = "${options.probe.path}";`,
      `    .interval = ${options.probe.intervalMs}ms;`,
      `    .timeout = ${options.probe.timeoutMs}ms;`,
      `    .window = ${options.probe.window};`,
      `    .threshold = ${options.probe.threshold};`,
      '}',
      '',
    );
  }
  // A VCL must declare a backend even before any slot has instances.
  lines.push('backend cutover_none none;');
  for (const slot of SLOTS) {
    state.targets[slot].forEach((target, index) => {
      lines.push(
        `backend ${backendName(slot, index)} { .host = "${vclHost(target)}"; .port = "${vclPort(target)}"; .probe = cutover_probe; }`,
      );
    });
  }
  lines.push('', 'sub vcl_init {');
  for (const slot of SLOTS) {
    lines.push(`    new cutover_${slot} = directors.round_robin();`);
    state.targets[slot].forEach((_, index) => {
      lines.push(`    cutover_${slot}.add_backend(${backendName(slot, index)});`);
    });
  }
  const weights = state.weights;
  const split = weights !== null && weights.blue > 0 && weights.green > 0;
  if (split) {
    lines.push('    new cutover_live = directors.random();');
    for (const slot of SLOTS)
      lines.push(`    cutover_live.add_backend(cutover_${slot}.backend(), ${weights[slot]});`);
  }
  lines.push('}', '', 'sub vcl_recv {');
  const header = `req.http.${options.previewHeader}`;
  const token = options.previewToken;
  if (token !== null) {
    SLOTS.forEach((slot, index) => {
      const keyword = index === 0 ? 'if' : '} elsif';
      lines.push(`    ${keyword} (${header} == "${previewValue(slot, token)}") {`);
      lines.push(`        set req.backend_hint = cutover_${slot}.backend();`);
    });
  }
  const live =
    weights === null
      ? 'cutover_none'
      : split
        ? 'cutover_live.backend()'
        : `cutover_${weights.blue > 0 ? 'blue' : 'green'}.backend()`;
  if (token !== null) lines.push('    } else {', `        set req.backend_hint = ${live};`, '    }');
  else lines.push(`    set req.backend_hint = ${live};`);
  lines.push(`    unset ${header};`, '    return (pass);', '}', '');
  return lines.join('\n');
}

/** A name that says the weights and, through a hash of the text, exactly which VCL this is. */
export function vclName(vcl: string, weights: Weights | null, now = Date.now()): string {
  const split = weights === null ? 'b0-g0' : `b${weights.blue}-g${weights.green}`;
  return `${VCL_NAME_PREFIX}${split}-${vclHash(vcl)}-${now.toString(36)}`;
}

export function vclHash(vcl: string): string {
  return createHash('sha256').update(vcl).digest('hex').slice(0, 12);
}

/** The hash part of a cutover VCL name, or undefined for a name cutover did not make. */
export function hashOfName(name: string): string | undefined {
  const match = /^cutover-b\d+-g\d+-([0-9a-f]{12})-[0-9a-z]+$/.exec(name);
  return match?.[1];
}

/** The state in the header comment of a cutover VCL, or undefined if the VCL is not ours. */
export function parseVclState(source: string): VclState | undefined {
  const line = source.split('\n').find((candidate) => candidate.startsWith(STATE_MARK));
  if (line === undefined) return undefined;
  const parsed: unknown = JSON.parse(line.slice(STATE_MARK.length));
  if (!isVclState(parsed)) return undefined;
  return parsed;
}

function isVclState(value: unknown): value is VclState {
  if (typeof value !== 'object' || value === null) return false;
  const { weights, targets } = value as { weights?: unknown; targets?: unknown };
  if (typeof weights !== 'object' || typeof targets !== 'object' || targets === null) return false;
  return SLOTS.every((slot) => {
    const weight = weights === null ? 0 : (weights as Record<string, unknown>)[slot];
    const list = (targets as Record<string, unknown>)[slot];
    return typeof weight === 'number' && Array.isArray(list) && list.every(isTarget);
  });
}

function isTarget(value: unknown): value is Target {
  if (typeof value !== 'object' || value === null) return false;
  const { id, host, port } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof host === 'string' && typeof port === 'number';
}

/** Refuses what could not be a host rather than writing it into VCL source. */
function vclHost(target: Target): string {
  const host = target.host.replace(/^\[(.*)\]$/, '$1');
  if (!HOST.test(host)) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `target ${target.id}: "${target.host}" is not a host name or IP address`,
    );
  }
  return host;
}

function vclPort(target: Target): number {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new CutoverError('CUTOVER_E_ROUTER', `target ${target.id}: ${target.port} is not a TCP port`);
  }
  return target.port;
}
