// The demo web app: answers every request with its version, read from ./VERSION in the
// release folder it runs in. On SIGTERM it stops accepting, finishes what is in flight, exits.
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
server.listen(port, '127.0.0.1', () => {
  console.log(`demo ${version} listening on 127.0.0.1:${port}`);
});
process.on('SIGTERM', () => {
  console.log(`demo ${version} stopping`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
