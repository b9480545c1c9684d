// The app the end-to-end tests deploy. Its behaviour comes from files in the release folder
// (its working directory), so each release can misbehave in its own way:
//   VERSION            body of every answer (default "unknown")
//   EXIT_AT_ONCE       exit 1 before listening
//   NEVER_HEALTHY      /healthz answers 503 forever
//   UNHEALTHY_FOR_MS   /healthz answers 503 for this many ms after start; `/` answers "<version>-unhealthy" meanwhile
//   START_DELAY_MS     wait this long before listening
//   FAIL_REQUESTS      every request but /healthz answers 500 (healthy, yet failing its users)
//   FAIL_PERCENT       this share (0-100) of the requests to `/` answers 500, spread evenly (5: every 20th)
//   DELAY_MS           every answer to `/` waits this long first (a slower release)
// GET /slow?ms=N answers after N ms (an in-flight request for drain tests). GET /pid answers the pid.
// A WebSocket on any path is greeted with the version, then each message is echoed as "<version>:<message>".
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { WebSocketServer } from 'ws';

const read = (name) => (existsSync(name) ? readFileSync(name, 'utf8').trim() : undefined);
const version = read('VERSION') ?? 'unknown';
const port = Number(process.env.PORT);
const started = Date.now();
const unhealthyFor = Number(read('UNHEALTHY_FOR_MS') ?? 0);
const neverHealthy = read('NEVER_HEALTHY') !== undefined;
const failRequests = read('FAIL_REQUESTS') !== undefined;
const failPercent = Number(read('FAIL_PERCENT') ?? 0);
const delayMs = Number(read('DELAY_MS') ?? 0);
let answered = 0;
const healthy = () => !neverHealthy && Date.now() - started >= unhealthyFor;

if (read('EXIT_AT_ONCE') !== undefined) {
  console.error(`fatal: release ${version} cannot start (EXIT_AT_ONCE)`);
  process.exit(1);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://app');
  if (url.pathname === '/healthz') {
    response.writeHead(healthy() ? 200 : 503);
    response.end(healthy() ? 'ok' : 'starting');
    return;
  }
  if (url.pathname === '/pid') {
    response.end(String(process.pid));
    return;
  }
  if (failRequests) {
    response.writeHead(500);
    response.end(`${version}-failing`);
    return;
  }
  const body = healthy() ? version : `${version}-unhealthy`;
  if (url.pathname === '/slow') {
    setTimeout(() => response.end(body), Number(url.searchParams.get('ms') ?? 1000));
    return;
  }
  // Counted, not random: a test sees exactly the share it asked for.
  answered += 1;
  const fails = failPercent > 0 && (answered * failPercent) % 100 < failPercent;
  const answer = () => {
    if (fails) response.writeHead(500);
    response.end(fails ? `${version}-failing` : body);
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});
server.keepAliveTimeout = 65_000;
const webSockets = new WebSocketServer({ server });
webSockets.on('connection', (socket) => {
  socket.send(version);
  socket.on('message', (data) => socket.send(`${version}:${data.toString()}`));
});
setTimeout(
  () => server.listen(port, '127.0.0.1', () => console.log(`e2e ${version} on ${port}`)),
  Number(read('START_DELAY_MS') ?? 0),
);
process.on('SIGTERM', () => {
  for (const socket of webSockets.clients) socket.close(1001);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
