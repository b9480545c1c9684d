// The app the shadow comparison end-to-end test deploys. Its answers come from files in the
// release folder (its working directory):
//   VERSION    what POST /orders answers (which release took the write)
//   EXTRA      when present, GET /api answers one more field ("discount"): a release that
//              answers differently from the one it replaces
// GET /api answers JSON with a fresh timestamp and fresh item ids on every call (what an
// ignored path leaves out). POST /orders counts the writes this process took; GET /orders
// answers that count. GET /healthz answers ok.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';

const read = (name) => (existsSync(name) ? readFileSync(name, 'utf8').trim() : undefined);
const version = read('VERSION') ?? 'unknown';
const extra = read('EXTRA') !== undefined;
let orders = 0;

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://app');
  request.resume();
  if (url.pathname === '/healthz') {
    response.end('ok');
    return;
  }
  if (url.pathname === '/orders' && request.method === 'POST') {
    orders += 1;
    request.on('end', () => response.end(version));
    return;
  }
  if (url.pathname === '/orders') {
    response.end(String(orders));
    return;
  }
  const body = {
    timestamp: new Date().toISOString(),
    items: [
      { id: randomUUID(), name: 'tea', price: 3 },
      { id: randomUUID(), name: 'cake', price: 12345678901234567890 },
    ],
    total: 2,
    ...(extra ? { discount: 5 } : {}),
  };
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`shadow app ${version}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
