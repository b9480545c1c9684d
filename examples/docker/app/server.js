// Answers every request with its release. On SIGTERM (docker stop) it stops accepting,
// finishes what is in flight and exits before the stop grace runs out.
import http from 'node:http';

const release = process.env.CUTOVER_RELEASE ?? process.env.APP_RELEASE ?? 'dev';
const port = Number(process.env.PORT ?? 3000);

const server = http.createServer((request, response) => {
  if (request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain', 'x-app-release': release }).end(`${release}\n`);
});
// Longer than the builtin proxy's upstream keep-alive, so the proxy closes idle connections first.
server.keepAliveTimeout = 65_000;
server.listen(port, '0.0.0.0', () => console.log(`release ${release} listening on ${port}`));
process.on('SIGTERM', () => {
  console.log(`release ${release} stopping`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
