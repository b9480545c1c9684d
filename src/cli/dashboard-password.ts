import type { Command } from 'commander';
import { passwordFilePath, revokePassword, setPassword } from '../dashboard/password-file.js';
import { CutoverError, EXIT } from '../shared/errors.js';
import { loadCliConfig, verb, type CommonOptions } from './cli-context.js';
import { printJson, printLine } from './output.js';

interface DashboardPasswordOptions extends CommonOptions {
  revoke?: boolean;
}

/**
 * `cutover dashboard-password <user>`: sets a user's dashboard password (read from the terminal
 * without echo, or as the first line of stdin), stored as a scrypt hash in a 0600 file in the
 * state directory; `--revoke` deletes it, which also ends that user's open sessions.
 */
export function registerDashboardPassword(program: Command): void {
  program
    .command('dashboard-password')
    .description('set (from stdin or a prompt) or --revoke a dashboard login password for a user')
    .argument('<user>', 'the name the audit log records for this login')
    .option('--revoke', "delete the user's password and end their sessions")
    .action(
      verb(async (mode, user: string, options: DashboardPasswordOptions) => {
        const config = loadCliConfig(options);
        const file = passwordFilePath(config.stateDirPath);
        if (options.revoke) {
          const removed = revokePassword(config.stateDirPath, user);
          if (mode.json) printJson({ ok: true, user, revoked: removed, file });
          else
            printLine(
              removed ? `revoked the dashboard password of ${user}` : `${user} had no dashboard password`,
            );
          return removed ? EXIT.OK : EXIT.USAGE;
        }
        const password = await readPassword();
        await setPassword(config.stateDirPath, user, password);
        if (mode.json) printJson({ ok: true, user, file });
        else printLine(`dashboard password set for ${user} (${file})`);
        return EXIT.OK;
      }),
    );
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (text.length > 4096) break;
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '')
      throw new CutoverError('CUTOVER_E_USAGE', 'no password on stdin (its first line is read)');
    return line;
  }
  const first = await promptHidden('dashboard password: ');
  const again = await promptHidden('again: ');
  if (first !== again) throw new CutoverError('CUTOVER_E_USAGE', 'the two passwords differ');
  return first;
}

/** One line from the terminal with echo off. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    let typed = '';
    const onData = (chunk: Buffer): void => {
      for (const character of chunk.toString('utf8')) {
        if (character === '\r' || character === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (character === '\u0003') {
          finish();
          reject(new CutoverError('CUTOVER_E_INTERRUPTED', 'interrupted'));
          return;
        }
        if (character === '\u007f') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    input.on('data', onData);
  });
}
