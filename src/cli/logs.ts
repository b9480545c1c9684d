import type { Command } from 'commander';
import { EXIT } from '../core/errors.js';
import { isSlot } from '../core/slot.js';
import type { LogLine } from '../platforms/platform.js';
import { clientFor, verb, type CommonOptions } from './cli-context.js';
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
        const { lines } = await clientFor(options).request<{ lines: LogLine[] }>(
          'GET',
          `/v1/logs?${query.toString()}`,
        );
        if (mode.json) printJson({ lines });
        else
          for (const line of lines)
            printLine(`${line.instanceId} ${line.stream === 'stderr' ? '!' : '|'} ${line.line}`);
        return EXIT.OK;
      }),
    );
}
