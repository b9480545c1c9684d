/**
 * The files cutover owns next to HAProxy's main config: a config file with the app's backends
 * (loaded with a second `-f`) and a map file whose `live` key names the backend live traffic
 * uses. Both are rendered from the same state the runtime API was told, so a reload or a
 * restart serves what was last asked.
 */
import { SLOTS, type Slot, type SlotTargets, type Target, type Weights } from '../../shared/slot.js';

export interface HaproxyState {
  readonly targets: SlotTargets;
  readonly weights: Weights;
  /** The slot the preview backend reaches, or null before any preview. */
  readonly preview: Slot | null;
}

export interface BackendNames {
  /** Both slots, weighted (shift steps). */
  readonly weighted: string;
  /** One slot each (what an atomic switch points at). */
  readonly slot: Record<Slot, string>;
  readonly preview: string;
}

export interface DesiredServer {
  readonly name: string;
  readonly slot: Slot;
  /** Undefined for a spare position: it stays in maintenance wherever it points. */
  readonly target: Target | undefined;
  readonly weight: number;
  readonly ready: boolean;
}

/** Where a spare position points in the file; it is `disabled`, so nothing is sent there. */
const SPARE_ADDRESS = { host: '127.0.0.1', port: 1 };
/** HAProxy's largest server weight. */
const MAX_WEIGHT = 256;
const STATE_MARK = '# cutover-state ';

export function initialHaproxyState(): HaproxyState {
  return { targets: { blue: [], green: [] }, weights: { blue: 100, green: 0 }, preview: null };
}

export function backendNames(weighted: string, preview: string): BackendNames {
  return { weighted, slot: { blue: `${weighted}_blue`, green: `${weighted}_green` }, preview };
}

/**
 * Servers are positions, `blue_1` … `blue_<capacity>`, declared in the config file up front and
 * re-pointed with `set server addr`: HAProxy 2.6 never reuses server-side connections to a
 * server made by `add server` (measured: every request opened a new connection, ~3× slower),
 * so runtime-added servers are only the fallback when a slot outgrows its positions.
 */
export function serverName(slot: Slot, position: number): string {
  return `${slot}_${position + 1}`;
}

export function slotOfServer(name: string): Slot | undefined {
  return SLOTS.find((slot) => name.startsWith(`${slot}_`));
}

/** The backend live traffic should use: a single-slot backend for {100,0}/{0,100}, else the weighted one. */
export function liveBackend(state: HaproxyState, names: BackendNames): string {
  if (state.weights.green === 0) return names.slot.blue;
  if (state.weights.blue === 0) return names.slot.green;
  return names.weighted;
}

/** Every server position each backend should hold, with its weight and whether it takes requests. */
export function desiredServers(
  state: HaproxyState,
  names: BackendNames,
  capacity: number,
): Map<string, DesiredServer[]> {
  const perServer = serverWeights(state.weights, state.targets);
  const of = (slot: Slot, weight: number, ready: boolean): DesiredServer[] =>
    Array.from({ length: Math.max(capacity, state.targets[slot].length) }, (_, position) => {
      const target = state.targets[slot][position];
      return { name: serverName(slot, position), slot, target, weight, ready: ready && target !== undefined };
    });
  return new Map([
    [names.slot.blue, of('blue', 1, true)],
    [names.slot.green, of('green', 1, true)],
    [names.weighted, [...of('blue', perServer.blue, true), ...of('green', perServer.green, true)]],
    [
      names.preview,
      [...of('blue', 1, state.preview === 'blue'), ...of('green', 1, state.preview === 'green')],
    ],
  ]);
}

/**
 * Per-server weights (0‥256) so each slot's total keeps the asked ratio: exact when the
 * reduced ratio fits in 256, otherwise scaled (verify then reads back within a percent).
 */
export function serverWeights(weights: Weights, targets: SlotTargets): Record<Slot, number> {
  if (weights.green === 0) return { blue: 1, green: 0 };
  if (weights.blue === 0) return { blue: 0, green: 1 };
  let blue = weights.blue * Math.max(1, targets.green.length);
  let green = weights.green * Math.max(1, targets.blue.length);
  const divisor = gcd(blue, green);
  blue /= divisor;
  green /= divisor;
  const largest = Math.max(blue, green);
  if (largest > MAX_WEIGHT) {
    blue = Math.max(1, Math.round((blue * MAX_WEIGHT) / largest));
    green = Math.max(1, Math.round((green * MAX_WEIGHT) / largest));
  }
  return { blue, green };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function renderConfig(
  state: HaproxyState,
  names: BackendNames,
  options: { serverStateFile: boolean; capacity: number; previewHeader: string },
): string {
  const lines = [
    '# Managed by cutover: every traffic change rewrites this file to match the runtime API.',
    `${STATE_MARK}${JSON.stringify(state)}`,
  ];
  for (const [backend, servers] of desiredServers(state, names, options.capacity)) {
    lines.push('', `backend ${backend}`, '    mode http', '    balance roundrobin');
    if (options.serverStateFile) lines.push('    load-server-state-from-file global');
    // The frontend has chosen the backend by now: the preview token goes no further than HAProxy.
    lines.push(`    http-request del-header ${options.previewHeader}`);
    for (const server of servers) {
      const { host, port } = server.target ?? SPARE_ADDRESS;
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      lines.push(
        `    server ${server.name} ${address} weight ${server.weight}${server.ready ? '' : ' disabled'}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderMap(state: HaproxyState, names: BackendNames): string {
  return `# Managed by cutover: the backend live traffic uses.\nlive ${liveBackend(state, names)}\n`;
}

/** The preview token file: the one pattern the frontend's preview rule matches exactly. */
export function renderPreviewTokenFile(token: string): string {
  return `${token}\n`;
}

export function parseHaproxyState(text: string): HaproxyState | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(STATE_MARK));
  return line === undefined ? undefined : (JSON.parse(line.slice(STATE_MARK.length)) as HaproxyState);
}
