/**
 * Runs cutover's builtin router in a process of its own, so a test can show the proxy
 * survives what it is sent (a crash ends this process, not the test's):
 *   node --import tsx test/proxy/support/proxy-child.ts <backendPort|0> [tlsDir]
 * A plain listener, and with `tlsDir` (holding cert.pem and key.pem) a TLS one as well, both
 * in front of the backend on 127.0.0.1 (none: every request gets 503). Prints one JSON line
 * `{"plain":port,"tls":port}` on stdout once listening; its log records go to stderr, one
 * JSON line each. SIGTERM closes the routers and exits 0; so does the end of stdin (the test
 * process that started it is gone), so no proxy outlives its test.
 */
import path from 'node:path';
import { Logger } from '../../../src/shared/logger.js';
import { createBuiltinRouter, type BuiltinRouter } from '../../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../../src/routers/builtin/config.js';

const [backendArgument, tlsDir] = process.argv.slice(2);
const backendPort = Number(backendArgument ?? 0);
const logger = new Logger((record) => process.stderr.write(`${JSON.stringify(record)}\n`), 'debug');

async function open(tls: { cert: string; key: string } | undefined): Promise<BuiltinRouter> {
  const router = createBuiltinRouter(
    builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0', ...(tls ? { tls } : {}) }),
    {
      logger,
    },
  );
  await router.open();
  if (backendPort > 0) {
    await router.prepare({ blue: [{ id: 'b1', host: '127.0.0.1', port: backendPort }], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  }
  return router;
}

const routers = [await open(undefined)];
if (tlsDir !== undefined)
  routers.push(await open({ cert: path.join(tlsDir, 'cert.pem'), key: path.join(tlsDir, 'key.pem') }));
process.stdout.write(
  `${JSON.stringify({ plain: routers[0]!.address().live.port, tls: routers[1]?.address().live.port })}\n`,
);
const stop = (): void => {
  void Promise.all(routers.map((router) => router.close())).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
