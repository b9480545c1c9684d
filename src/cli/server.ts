import type { Command } from 'commander';
import { EXIT } from '../shared/errors.js';
import { Logger, jsonLineSink, type LogLevel } from '../shared/logger.js';
import { handOverFromRunningServer } from '../server/hand-over.js';
import { configPath, verb, type CommonOptions } from './cli-context.js';
import { printJson, printLine } from './output.js';

interface ServerOptions extends CommonOptions {
  logLevel: LogLevel;
  upgrade?: boolean;
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description(
      'run the control server: builtin proxy, admin API, event stream, metrics, and the deployment engine',
    )
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option(
      '--upgrade',
      'take over from the server running on this state directory: it exits leaving its proxy workers serving, and this one replaces them with its own without dropping a request',
    )
    .action(
      verb(async (mode, options: ServerOptions) => {
        const logger = new Logger(jsonLineSink(process.stderr), options.logLevel);
        if (options.upgrade === true) await handOverFromRunningServer(configPath(options), logger);
        // Loaded here, not with the CLI: the dashboard, the admin API and prom-client are this
        // verb's alone, and every other verb starts faster without them.
        const { startControlServer } = await import('../server/control-server.js');
        const server = await startControlServer({
          configFile: configPath(options),
          logger,
          upgrade: options.upgrade === true,
        });
        const facts = {
          adminUrl: server.adminUrl,
          trafficUrl: server.trafficUrl,
          previewUrl: server.previewUrl,
          pid: process.pid,
        };
        if (mode.json) printJson({ ok: true, ...facts });
        else {
          printLine(`cutover server for ${server.config.app} (pid ${process.pid})`);
          if (server.trafficUrl) printLine(`  traffic  ${server.trafficUrl}`);
          if (server.previewUrl) printLine(`  preview  ${server.previewUrl}`);
          printLine(`  admin    ${server.adminUrl}  (token in ${server.config.stateDirPath}/admin-token)`);
        }
        await new Promise<void>((resolve) => {
          // SIGUSR2: a successor (cutover server --upgrade) takes over; the proxy workers stay.
          const stop = (signal: NodeJS.Signals): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            process.off('SIGUSR2', stop);
            server.close({ leaveDataPlane: signal === 'SIGUSR2' }).then(resolve, (error: unknown) => {
              logger.error('server.close-failed', { error: (error as Error).message });
              resolve();
            });
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          process.on('SIGUSR2', stop);
        });
        return EXIT.OK;
      }),
    );
}
