/**
 * A client for HAProxy's runtime API over its unix stats socket, with node's `net` (no socat):
 * one connection per command, the answer is everything HAProxy writes before it closes.
 */
import net from 'node:net';
import { CutoverError } from '../../shared/errors.js';

const COMMAND_TIMEOUT_MS = 5000;

export class HaproxyRuntime {
  constructor(private readonly socketPath: string) {}

  /** Sends one command; throws CUTOVER_E_ROUTER when HAProxy is unreachable. */
  send(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.socketPath);
      const chunks: Buffer[] = [];
      socket.setTimeout(COMMAND_TIMEOUT_MS, () =>
        socket.destroy(new Error(`no answer within ${COMMAND_TIMEOUT_MS}ms to "${command}"`)),
      );
      socket.on('connect', () => socket.end(`${command}\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error) =>
        reject(
          new CutoverError(
            'CUTOVER_E_ROUTER',
            `HAProxy runtime API at ${this.socketPath} is not reachable (is HAProxy running with \`stats socket ${this.socketPath} level admin\`?): ${error.message}`,
            { cause: error },
          ),
        ),
      );
      socket.on('close', (hadError) => {
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
  }

  /**
   * Sends a command whose success is silence (set …) or a known phrase (add/del server);
   * anything else is HAProxy refusing it.
   */
  async expect(command: string, success: RegExp = /^$/): Promise<void> {
    const answer = (await this.send(command)).trim();
    if (!success.test(answer)) {
      throw new CutoverError('CUTOVER_E_ROUTER', `HAProxy refused "${command}": ${answer.split('\n')[0]}`, {
        details: { command, answer },
      });
    }
  }
}

export interface ServerState {
  readonly backend: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly operationalState: number;
  /** Bit field (srv_admin): 0x01/0x02/0x20 maintenance, 0x04 "disabled in the config" (a marker only), 0x08/0x10 drain. */
  readonly adminState: number;
  readonly weight: number;
}

/** `show servers state [backend]` (format version 1). */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  return lines
    .slice(1) // the format version
    .map((line) => line.trim().split(/\s+/))
    .map((fields) => ({
      backend: fields[1] ?? '',
      name: fields[3] ?? '',
      address: fields[4] ?? '',
      operationalState: Number(fields[5]),
      adminState: Number(fields[6]),
      weight: Number(fields[7]),
      port: Number(fields[18]),
    }));
}

export type StatRow = Record<string, string>;

/** `show stat` CSV, one record per proxy/server row. */
export function parseStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
  return lines.slice(1).map((line) => {
    const values = line.split(',');
    return Object.fromEntries(header.map((key, i) => [key, values[i] ?? '']));
  });
}

/** `show map <file>`: key → value. */
export function parseMap(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined) entries.set(key, value);
  }
  return entries;
}

/** Any maintenance flag (SRV_ADMF_MAINT); the config's `disabled` marker (0x04) alone is not one. */
const MAINTENANCE = 0x23;
const DRAIN = 0x18;

export function inMaintenance(server: ServerState): boolean {
  return (server.adminState & MAINTENANCE) !== 0;
}

/** Whether HAProxy may pick this server for a new request (weight aside). */
export function takesRequests(server: ServerState): boolean {
  return (server.adminState & (MAINTENANCE | DRAIN)) === 0;
}
