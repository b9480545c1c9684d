import type { Command } from 'commander';
import { EXIT } from '../shared/errors.js';
import { isSlot, type Slot } from '../shared/slot.js';
import type { LogLine } from '../shared/platform.js';
import { verb, type CommonOptions } from './cli-context.js';
import { controlPlaneFor } from './control-plane.js';
import { withInProcessEngine } from './in-process-engine.js';
import { printJson, printLine, usageError, type OutputMode } from './output.js';

type LogsOptions = CommonOptions & { tail?: string; follow?: boolean };

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print the last lines of a slot's instance logs (-f: then follow them)")
    .argument('[slot]', 'blue or green (default: both)')
    .option('-n, --tail <lines>', 'lines per instance (default: 100; 0 with -f)')
    .option('-f, --follow', 'keep printing lines as the instances write them, until Ctrl-C')
    .action(
      verb(async (mode, slot: string | undefined, options: LogsOptions) => {
        if (slot !== undefined && !isSlot(slot))
          throw usageError(`slot must be blue or green, got "${slot}"`);
        const follow = options.follow === true;
        const tail = Number(options.tail ?? (follow ? 0 : 100));
        if (!Number.isInteger(tail) || tail < (follow ? 0 : 1))
          throw usageError(
            `--tail must be a ${follow ? 'whole number' : 'positive whole number'}, got "${options.tail}"`,
          );
        const slots: Slot[] = slot ? [slot] : ['blue', 'green'];
        if (follow) return followLogs(mode, options, slot, slots, tail);
        const query = new URLSearchParams({ tail: String(tail), ...(slot ? { slot } : {}) });
        const plane = controlPlaneFor(options);
        const lines =
          plane.kind === 'server'
            ? (await plane.client.request<{ lines: LogLine[] }>('GET', `/v1/logs?${query.toString()}`)).lines
            : await withInProcessEngine(plane.config, { verb: 'logs', drive: false }, async (session) =>
                (await Promise.all(slots.map((name) => session.platform.logs(name, { tail })))).flat(),
              );
        if (mode.json) printJson({ lines });
        else for (const line of lines) printLine(formatLine(line));
        return EXIT.OK;
      }),
    );
}

/** Prints lines as they come until Ctrl-C (or SIGTERM), or until every instance's log ended. */
async function followLogs(
  mode: OutputMode,
  options: LogsOptions,
  slot: Slot | undefined,
  slots: Slot[],
  tail: number,
): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // --json: one JSON line per log line (NDJSON), as the admin API streams them.
  const print = (line: LogLine): void => printLine(mode.json ? JSON.stringify(line) : formatLine(line));
  try {
    const plane = controlPlaneFor(options);
    if (plane.kind === 'server') {
      const query = new URLSearchParams({ tail: String(tail), ...(slot ? { slot } : {}) });
      await plane.client.followLines(
        `/v1/logs/follow?${query.toString()}`,
        (item) => print(item as LogLine),
        stop.signal,
      );
    } else {
      await withInProcessEngine(plane.config, { verb: 'logs -f', drive: false }, async (session) => {
        const { platform } = session;
        if (!platform.followLogs)
          throw usageError(
            `the ${platform.describe().kind} platform cannot follow logs; \`cutover logs\` without -f reads them`,
          );
        const follow = platform.followLogs.bind(platform);
        await Promise.all(slots.map((name) => follow(name, print, stop.signal, { tail })));
      });
    }
    return EXIT.OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function formatLine(line: LogLine): string {
  return `${line.instanceId} ${line.stream === 'stderr' ? '!' : '|'} ${line.line}`;
}
