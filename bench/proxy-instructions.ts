/**
 * User-space instructions per proxied request, for cutover's builtin proxy and its peers:
 *
 *   node --import tsx bench/proxy-instructions.ts [--requests 10000] [--warmup 10000] [--only cutover,nginx]
 *
 * Each proxy runs under valgrind's callgrind in front of the same fast backend (nginx,
 * `return 200`); after a warm-up (so Node's JIT has compiled the hot path) exactly --requests
 * GETs go through it over 8 keep-alive connections, and the instructions it executed meanwhile
 * are counted. A count, not a time: it repeats within about 1 % on a busy shared machine where
 * req/s moves by a third, so it shows what a change to the proxy's own code saves. It leaves
 * out the kernel's share (the reads and writes themselves, about half of the proxy's CPU time
 * in bench/proxy-throughput.ts), which is alike for every proxy: the req/s ratio is the
 * target, this is the tool for getting there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callgrindWrapper, countInstructions } from './lib/callgrind.js';
import { compileBenchChildren } from './lib/compile.js';
import { sendCountedRequests } from './lib/counted-load.js';
import {
  removeTempDirs,
  setProxyWrapper,
  startHaproxy,
  startNginxBackend,
  startNginxProxy,
  startNodeProxy,
  type Daemon,
} from './lib/daemons.js';
import { listArg, numberArg } from './lib/args.js';

const REQUESTS = numberArg('--requests', 10_000);
const WARMUP = numberArg('--warmup', 10_000);
const CONNECTIONS = 8;

const allPeers: ReadonlyArray<{
  key: string;
  name: string;
  start: (backendPort: number) => Promise<Daemon>;
}> = [
  {
    key: 'cutover',
    name: 'cutover builtin',
    start: (port) => startNodeProxy('cutover', 'cutover-proxy-child.ts', port),
  },
  { key: 'nginx', name: 'nginx', start: startNginxProxy },
  { key: 'haproxy', name: 'HAProxy', start: startHaproxy },
  {
    key: 'http-proxy',
    name: 'http-proxy',
    start: (port) => startNodeProxy('http-proxy', 'http-proxy-child.ts', port),
  },
];
const only = listArg('--only') ?? allPeers.map((peer) => peer.key);
const unknown = only.filter((key) => !allPeers.some((peer) => peer.key === key));
if (unknown.length > 0)
  throw new Error(
    `--only: unknown ${unknown.join(', ')} (known: ${allPeers.map((peer) => peer.key).join(', ')})`,
  );
const peers = allPeers.filter((peer) => only.includes(peer.key));

compileBenchChildren();
const dumpDir = mkdtempSync(path.join(os.tmpdir(), 'bench-callgrind-'));
const backend = await startNginxBackend();
console.log(
  `cutover proxy instructions bench — callgrind, ${WARMUP} warm-up + ${REQUESTS} counted requests ` +
    `over ${CONNECTIONS} keep-alive connections, node ${process.version}, ${new Date().toISOString()}\n`,
);
const rows: Array<{ name: string; perRequest: number }> = [];
try {
  setProxyWrapper(callgrindWrapper(dumpDir));
  for (const peer of peers) {
    const proxy = await peer.start(backend.port);
    try {
      await sendCountedRequests(proxy.port, WARMUP, CONNECTIONS);
    } catch (error) {
      await proxy.stop();
      throw error;
    }
    const instructions = await countInstructions(
      proxy.pid,
      dumpDir,
      () => sendCountedRequests(proxy.port, REQUESTS, CONNECTIONS),
      () => proxy.stop(),
    );
    rows.push({ name: peer.name, perRequest: instructions / REQUESTS });
  }
} finally {
  setProxyWrapper([]);
  await backend.stop();
  removeTempDirs();
  rmSync(dumpDir, { recursive: true, force: true });
}

const perRequest = (name: string): number | undefined => rows.find((row) => row.name === name)?.perRequest;
const nginx = perRequest('nginx');
console.log(`| proxy | user-space instructions per request |${nginx === undefined ? '' : ' ÷ nginx |'}`);
console.log(`| --- | ---: |${nginx === undefined ? '' : ' ---: |'}`);
for (const row of rows) {
  const ratio = nginx === undefined ? '' : ` ${(row.perRequest / nginx).toFixed(2)} |`;
  console.log(`| ${row.name} | ${Math.round(row.perRequest).toLocaleString('en')} |${ratio}`);
}
const cutover = perRequest('cutover builtin');
const httpProxy = perRequest('http-proxy');
if (cutover !== undefined && nginx !== undefined && httpProxy !== undefined)
  console.log(
    `\ncutover ÷ nginx = ${(cutover / nginx).toFixed(2)}, http-proxy ÷ cutover = ` +
      `${(httpProxy / cutover).toFixed(2)} (user-space instructions per request)`,
  );
