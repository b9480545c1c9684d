import type { Command } from 'commander';
import { EXIT } from '../core/errors.js';
import { isSlot } from '../core/slot.js';
import type { LogLine } from '../platforms/platform.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { withInProcessEngine } from './in-process-engine.js';
import { printJson, printLine, usageError } from './output.js';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print the last lines of a slot's instance logs")
    .argument('[slot]', 'blue or green (default: both)')
    .option('-n, --tail <lines>', 'lines per instance', '100')
    .action(
      verb(async (mode, slot: string | undefined, options: CommonOptions & { tail: string }) => {
        if (slot !== undefined && !isSlot(slot))
          throw usageError(`slot must be blue or green, got "${slot}"`);
        const tail = Number(options.tail);
        if (!Number.isInteger(tail) || tail < 1)
          throw usageError(`--tail must be a positive whole number, got "${options.tail}"`);
        const query = new URLSearchParams({ tail: String(tail), ...(slot ? { slot } : {}) });
        const plane = controlPlaneFor(options);
        const slots = slot ? [slot] : (['blue', 'green'] as const);
        const lines =
          plane.kind === 'server'
            ? (await plane.client.request<{ lines: LogLine[] }>('GET', `/v1/logs?${query.toString()}`)).lines
            : await withInProcessEngine(plane.config, { verb: 'logs', drive: false }, async (session) =>
                (await Promise.all(slots.map((name) => session.platform.logs(name, { tail })))).flat(),
              );
        if (mode.json) printJson({ lines });
        else
          for (const line of lines)
            printLine(`${line.instanceId} ${line.stream === 'stderr' ? '!' : '|'} ${line.line}`);
        return EXIT.OK;
      }),
    );
}
