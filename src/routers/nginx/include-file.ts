/**
 * The include file cutover owns inside nginx's `http {}` block: one upstream for live traffic,
 * one for preview traffic, and a map that picks between them by a request header: exactly the
 * preview token, compared case-sensitively, reaches the preview upstream; any other value or
 * none goes live. The file holds the token, so it is written mode 0600. The state
 * it was rendered from rides along in a comment so a restarted cutover picks it up again; the
 * server lines themselves are what verify() reads, so a hand edit shows.
 */
import type { Slot, SlotTargets, Target, Weights } from '../../shared/slot.js';
import { SLOTS } from '../../shared/slot.js';

export interface IncludeState {
  readonly targets: SlotTargets;
  readonly weights: Weights;
  /** The slot the preview upstream reaches, or null before any preview. */
  readonly preview: Slot | null;
}

export interface IncludeNames {
  /** Upstream name prefix: `<prefix>_live`, `<prefix>_preview`, and the variable `$<prefix>_upstream`. */
  readonly prefix: string;
  readonly previewHeader: string;
  /** The only header value that reaches the preview upstream (base64url: safe in a regex). */
  readonly previewToken: string;
  readonly keepalive: number;
}

const STATE_MARK = '# cutover-state ';
/** nginx refuses an upstream without servers; this one is never used (`down`). */
const PLACEHOLDER = 'server 127.0.0.1:1 down; # no instances';

export function initialIncludeState(): IncludeState {
  return { targets: { blue: [], green: [] }, weights: { blue: 100, green: 0 }, preview: null };
}

export function renderInclude(state: IncludeState, names: IncludeNames): string {
  const perServer = serverWeights(state.weights, state.targets);
  const live: string[] = [];
  for (const slot of SLOTS) {
    if (perServer[slot] === 0) continue;
    for (const target of state.targets[slot]) {
      live.push(`server ${address(target)} weight=${perServer[slot]}; # ${slot} ${target.id}`);
    }
  }
  const preview =
    state.preview === null
      ? []
      : state.targets[state.preview].map(
          (target) => `server ${address(target)}; # ${state.preview} ${target.id}`,
        );
  const headerVariable = `$http_${names.previewHeader.toLowerCase().replace(/-/g, '_')}`;
  return [
    '# Managed by cutover: every traffic change rewrites this file. Edits by hand are undone.',
    `${STATE_MARK}${JSON.stringify(state)}`,
    upstream(`${names.prefix}_live`, live, names.keepalive),
    upstream(`${names.prefix}_preview`, preview, names.keepalive),
    `map ${headerVariable} $${names.prefix}_upstream {`,
    `    default ${names.prefix}_live;`,
    // A regex, not a plain string: nginx compares plain map strings ignoring case.
    `    "~^${names.previewToken}$" ${names.prefix}_preview;`,
    '}',
    '',
  ].join('\n');
}

function upstream(name: string, servers: readonly string[], keepalive: number): string {
  const lines = servers.length > 0 ? servers : [PLACEHOLDER];
  const body = lines.map((line) => `    ${line}`);
  if (keepalive > 0) body.push(`    keepalive ${keepalive};`);
  return [`upstream ${name} {`, ...body, '}'].join('\n');
}

function address(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/**
 * Integer nginx weight per server of each slot so the slots' totals keep the asked ratio
 * exactly: blue servers get blue% × |green|, green servers green% × |blue|, reduced by the gcd.
 */
export function serverWeights(weights: Weights, targets: SlotTargets): Record<Slot, number> {
  if (weights.green === 0) return { blue: 1, green: 0 };
  if (weights.blue === 0) return { blue: 0, green: 1 };
  const blue = weights.blue * Math.max(1, targets.green.length);
  const green = weights.green * Math.max(1, targets.blue.length);
  const divisor = gcd(blue, green);
  return { blue: blue / divisor, green: green / divisor };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The state comment of a file cutover wrote, or undefined for any other text. */
export function parseIncludeState(text: string): IncludeState | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(STATE_MARK));
  if (line === undefined) return undefined;
  return JSON.parse(line.slice(STATE_MARK.length)) as IncludeState;
}

export interface UpstreamServer {
  readonly address: string;
  readonly weight: number;
}

/** The servers of `upstream <name> { … }` that take traffic (not `down`, not `backup`). */
export function parseUpstreamServers(text: string, name: string): UpstreamServer[] | undefined {
  const block = new RegExp(`upstream\\s+${name}\\s*\\{([^}]*)\\}`).exec(text);
  if (block === null) return undefined;
  const servers: UpstreamServer[] = [];
  for (const rawLine of (block[1] ?? '').split(/;/)) {
    const line = rawLine.replace(/#[^\n]*/g, '').trim();
    const match = /^server\s+(\S+)(.*)$/s.exec(line);
    if (match === null) continue;
    const params = (match[2] ?? '').trim().split(/\s+/);
    if (params.includes('down') || params.includes('backup')) continue;
    const weightParam = params.find((param) => param.startsWith('weight='));
    servers.push({
      address: match[1] ?? '',
      weight: weightParam ? Number(weightParam.slice('weight='.length)) : 1,
    });
  }
  return servers;
}
