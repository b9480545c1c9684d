import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { CutoverError, EXIT } from '../shared/errors.js';
import { initTemplate } from '../config/init-template.js';
import { configPath, verb, type CommonOptions } from './cli-context.js';
import { printJson, printLine } from './output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented cutover.yml to start from')
    .option(
      '--app <name>',
      'the app name',
      path
        .basename(process.cwd())
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-') || 'app',
    )
    .option('--force', 'overwrite an existing file')
    .action(
      verb(async (mode, options: CommonOptions & { app: string; force?: boolean }) => {
        const file = configPath(options);
        if (existsSync(file) && !options.force) {
          throw new CutoverError('CUTOVER_E_USAGE', `${file} already exists (use --force to overwrite it)`);
        }
        writeFileAtomic(file, initTemplate({ app: options.app }));
        if (mode.json) printJson({ ok: true, file });
        else
          printLine(
            `wrote ${file}; next: edit platform.command, then \`cutover server\` and \`cutover deploy <release>\``,
          );
        return Promise.resolve(EXIT.OK);
      }),
    );
}
