/**
 * The shared Router contract, run against the builtin router. Its data plane lives in this
 * process, so "the daemon" is the router's own listeners: stopping it is close() (listeners
 * and sockets released, the applied state kept), starting it is open() on the same ports.
 */
import { silentLogger } from '../../src/shared/logger.js';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { runRouterContract } from '../routers/contract.js';

runRouterContract(
  'builtin',
  async () => {
    const router = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }),
      { logger: silentLogger },
    );
    await router.open();
    const publicUrl = `http://127.0.0.1:${router.address().live.port}`;
    return {
      router,
      publicUrl,
      stopDaemon: () => router.close(),
      startDaemon: () => router.open(),
      restartDaemon: async () => {
        await router.close();
        await router.open();
      },
      teardown: () => router.close(),
    };
  },
  { inProcess: true },
);
