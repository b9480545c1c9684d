/**
 * node-http-proxy with a keep-alive agent, in its own process, as a peer for the benches:
 *   node --import tsx bench/lib/http-proxy-child.ts <port> <backendPort>
 */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, backendPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${backendPort}`, agent, xfwd: true });
proxy.on('error', (_error, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  process.exit(0);
});
