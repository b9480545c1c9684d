// The fleet demo app: answers every request with its version (./VERSION in its release dir),
// on PORT and on every address of the host, so the HAProxy in front reaches it over the network.
// On SIGTERM it stops accepting, finishes what is in flight, exits.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const version = readFileSync('VERSION', 'utf8').trim();
const port = Number(process.env.PORT);

const server = http.createServer((request, response) => {
  if (request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain', 'x-app-version': version });
  response.end(`${version}\n`);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '0.0.0.0', () => {
  console.log(`demo ${version} listening on 0.0.0.0:${port}`);
});
process.on('SIGTERM', () => {
  console.log(`demo ${version} stopping`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
