// A tiny app for the process platform tests: serves its version on PORT (or --port).
// Plain JavaScript so it starts fast with plain `node`. Behaviour switches (env):
//   APP_VERSION        body of GET / (default: contents of ./VERSION in the working directory)
//   START_DELAY_MS     wait this long before anything else (a slow start on a loaded machine)
//   EXIT_AT_ONCE=1     print an error and exit 1 before listening
//   FAIL_FIRST_MARKER  path: if missing, create it and exit 1 as if the port were taken
//   FAIL_HEALTH=1      GET /healthz answers 503
//   IGNORE_SIGTERM=1   log SIGTERM and keep running (only SIGKILL stops it)
// GET /info answers JSON with pid, port, cwd, argv and the APP_* / CUTOVER_* environment.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const argValue = (name) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};

const port = Number(argValue('--port') ?? process.env.PORT);
const host = argValue('--host') ?? '127.0.0.1';
const version =
  process.env.APP_VERSION ?? (existsSync('VERSION') ? readFileSync('VERSION', 'utf8').trim() : 'unknown');

const startDelayMs = Number(process.env.START_DELAY_MS ?? 0);
if (startDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, startDelayMs));

if (process.env.EXIT_AT_ONCE === '1') {
  console.error('fatal: this app was told to exit at once');
  process.exit(1);
}
const marker = process.env.FAIL_FIRST_MARKER;
if (marker && !existsSync(marker)) {
  writeFileSync(marker, 'failed once\n');
  console.error(`Error: listen EADDRINUSE: address already in use ${host}:${port}`);
  process.exit(1);
}

const server = http.createServer((request, response) => {
  request.resume();
  if (request.url === '/healthz') {
    const healthy = process.env.FAIL_HEALTH !== '1';
    response.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'failing');
    return;
  }
  if (request.url === '/info') {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => key.startsWith('APP_') || key.startsWith('CUTOVER_') || key === 'PORT',
      ),
    );
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        version,
        pid: process.pid,
        port,
        cwd: process.cwd(),
        argv: process.argv.slice(2),
        env,
      }),
    );
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end(version);
});

process.on('SIGTERM', () => {
  if (process.env.IGNORE_SIGTERM === '1') {
    console.log('got SIGTERM, ignoring it');
    return;
  }
  console.log('got SIGTERM, exiting');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

server.listen(port, host, () => {
  console.log(`listening on ${host}:${port} version ${version} pid ${process.pid}`);
});
