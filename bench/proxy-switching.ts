/**
 * Switching under load: cutover's proxy in its own process, 50 keep-alive connections of
 * load plus 200 open WebSockets, and 1,000 atomic switches blue ↔ green (each followed by a
 * drain of the old slot). Prints what a client would notice: failed requests, connection
 * errors, and WebSocket closes before their drain deadline. Then one last switch lets the
 * deadline pass, to show the WebSockets on the old slot closing with 1001 at that moment.
 *
 *   node --import tsx bench/proxy-switching.ts [--switches 1000] [--sockets 200]
 */
import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import { startLoad } from '../test/support/load.js';
import { compileBenchChildren, compiledChild } from './lib/compile.js';
import { freePort, waitForPort } from './lib/free-port.js';
import { startVersionWsBackend } from './lib/version-backend.js';
import { numberArg } from './lib/args.js';
import { loadAverage } from './lib/format.js';

const SWITCHES = numberArg('--switches', 1000);
const SOCKETS = numberArg('--sockets', 200);
const CONNECTIONS = 50;
const DRAIN_MS = 3_000;

interface SocketRecord {
  readonly slot: string;
  closedAt?: number;
  code?: number;
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  compileBenchChildren();
  const blue = await startVersionWsBackend('blue');
  const green = await startVersionWsBackend('green');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [compiledChild('cutover-proxy-child.ts'), String(port), String(blue.port), String(green.port)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, CUTOVER_BENCH_DRAIN_MS: String(DRAIN_MS) },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ask = <T>(message: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (answer) => resolve(answer as T));
      child.send(message);
    });
  const sockets: SocketRecord[] = [];
  const open: WebSocket[] = [];
  try {
    await waitForPort(port);
    const openSocket = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        socket.once('message', (data: Buffer) => {
          const record: SocketRecord = { slot: data.toString() };
          sockets.push(record);
          open.push(socket);
          socket.once('close', (code) => {
            record.closedAt = Date.now();
            record.code = code;
          });
          resolve();
        });
        socket.once('error', reject);
      });

    // Half the WebSockets on each slot, so both slots hold some through every switch.
    for (let i = 0; i < SOCKETS / 2; i += 1) await openSocket();
    await ask('switch');
    for (let i = 0; i < SOCKETS / 2; i += 1) await openSocket();

    const load = startLoad({
      url: `http://127.0.0.1:${port}/`,
      connections: CONNECTIONS,
      maxDurationMs: 600_000,
    });
    const started = Date.now();
    for (let i = 1; i < SWITCHES; i += 1) {
      await ask('switch');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const switchSeconds = (Date.now() - started) / 1000;
    const stats = await load.stop();
    const closedDuringSwitches = sockets.filter((record) => record.closedAt !== undefined).length;

    // One more switch, then let its drain deadline pass.
    const final = await ask<{ live: string; deadline: number }>('switch');
    const drainedSlot = final.live === 'blue' ? 'green' : 'blue';
    const deadline = final.deadline;
    const onDrained = sockets.filter((record) => record.slot === drainedSlot);
    const waitUntil = Date.now() + DRAIN_MS + 5_000;
    while (onDrained.some((record) => record.closedAt === undefined) && Date.now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const beforeDeadline = onDrained.filter((record) => (record.closedAt ?? Infinity) < deadline).length;
    const at1001 = onDrained.filter(
      (record) => record.code === 1001 && (record.closedAt ?? 0) >= deadline,
    ).length;
    const survivors = sockets.filter(
      (record) => record.slot !== drainedSlot && record.closedAt === undefined,
    ).length;

    console.log(
      `cutover switching bench — ${SWITCHES} switches in ${switchSeconds.toFixed(1)}s, ${CONNECTIONS} keep-alive connections, ${sockets.length} WebSockets\n`,
    );
    console.log(
      `${new Date().toISOString()}, node ${process.version}, load average at start ${loadAtStart}, at end ${loadAverage()}\n`,
    );
    console.log('| measure | value |');
    console.log('| --- | ---: |');
    console.log(`| requests sent | ${stats.sent} |`);
    console.log(`| requests ok | ${stats.ok} |`);
    console.log(`| client-side failures | ${stats.failed} |`);
    console.log(`| connection errors | ${stats.connectionErrors} |`);
    console.log(`| non-2xx | ${stats.non2xx} |`);
    console.log(`| answers per version | ${JSON.stringify(stats.bodies)} |`);
    console.log(`| WebSockets closed during the ${SWITCHES} switches | ${closedDuringSwitches} |`);
    console.log(`| WebSockets on the drained slot closed before the deadline | ${beforeDeadline} |`);
    console.log(`| ... closed with 1001 at/after the deadline | ${at1001} of ${onDrained.length} |`);
    console.log(`| WebSockets on the live slot still open | ${survivors} |`);
    if (stats.firstErrors.length > 0)
      console.log(`\nfirst errors: ${stats.firstErrors.slice(0, 5).join(' | ')}`);
  } finally {
    for (const socket of open) socket.terminate();
    child.kill('SIGTERM');
    await exited;
    await blue.close();
    await green.close();
  }
}

await main();
