/** Runs wrk (1 thread, N keep-alive connections) and parses req/s, latency percentiles and errors. */
import { spawn } from 'node:child_process';
import { pinned, requireBinary } from './daemons.js';

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly socketErrors: number;
  readonly non2xx: number;
}

function toMs(value: string, unit: string): number {
  const number = Number(value);
  if (unit === 'us') return number / 1000;
  if (unit === 's') return number * 1000;
  if (unit === 'm') return number * 60_000;
  return number;
}

export async function runWrk(
  url: string,
  options: { connections: number; seconds: number },
): Promise<WrkResult> {
  requireBinary('wrk', 'apt-get install -y wrk');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      ...pinned('load', 'wrk', [
        '-t1',
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        '--latency',
        url,
      ]),
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
    );
  });
  const percentile = (label: string): number => {
    const match = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(output);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSecond: rps ? Number(rps[1]) : NaN,
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    socketErrors: errors ? errors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}
