/**
 * The running nginx both router modes drive: its main config (which must include cutover's
 * file), `nginx -t` on a candidate include file, its master pid, and a reload that waits until
 * the old workers stopped accepting.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { runCommand } from '../run-command.js';
import type { NginxRouterConfig } from './config.js';
import { listWorkers, masterPrefix, pidFileFromConfig, readMasterPid } from './nginx-process.js';

/** nginx's compiled-in default when the main config has no `pid` directive (Debian). */
const DEFAULT_PID_FILE = '/run/nginx.pid';

export class NginxInstance {
  readonly mainConfig: string;
  readonly includeFile: string;

  constructor(
    private readonly config: NginxRouterConfig,
    private readonly baseDir: string,
    private readonly logger: Logger,
  ) {
    this.mainConfig = path.resolve(baseDir, config.configFile);
    this.includeFile = path.resolve(baseDir, config.includeFile);
  }

  async readMainConfig(): Promise<string> {
    try {
      return await readFile(this.mainConfig, 'utf8');
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `cannot read nginx config ${this.mainConfig}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Refuses a main config that does not include our file. */
  requireInclude(main: string): void {
    if (this.includeDirective(main) === undefined) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `${this.mainConfig} does not include ${this.includeFile}; add \`include ${this.includeFile};\` inside http {} (docs/routers.md)`,
      );
    }
  }

  /**
   * `nginx -t` on a copy of the main config whose include points at the candidate; refusals
   * come back as CUTOVER_E_ROUTER with nginx's first error line, in the real files' names.
   */
  async validate(candidate: string, main: string): Promise<void> {
    const { code, output, prefix } = await this.test(candidate, main);
    if (code !== 0) {
      const hint =
        prefix === undefined
          ? " (nginx -t ran with nginx's built-in prefix: no nginx is running and the router has no `prefix`; set it to what nginx runs with, `nginx -p`)"
          : '';
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `nginx rejected the new config, the running one is unchanged: ${firstError(output)}${hint}`,
        { details: { output } },
      );
    }
  }

  /** `nginx -t` as in validate(), answering exit code and output (names already mapped back). */
  async test(
    candidate: string,
    main: string,
  ): Promise<{ code: number; output: string; prefix: string | undefined }> {
    const directive = this.includeDirective(main);
    if (directive === undefined) {
      throw new CutoverError('CUTOVER_E_CONFIG', `${this.mainConfig} no longer includes ${this.includeFile}`);
    }
    const testConfig = path.join(
      path.dirname(this.mainConfig),
      `.${path.basename(this.mainConfig)}.cutover-test.${randomBytes(4).toString('hex')}.conf`,
    );
    await writeFile(testConfig, main.replace(directive, `include ${candidate};`));
    try {
      // The same prefix the running nginx has, or relative paths (logs, temp dirs) resolve
      // against the compiled-in one and the test fails — or passes — for the wrong reason.
      const prefix = await this.prefix();
      const args = [...(prefix === undefined ? [] : ['-p', prefix]), '-t', '-q', '-c', testConfig];
      const { code, output } = await runCommand(this.config.binary, args);
      return {
        code,
        output: output.replaceAll(testConfig, this.mainConfig).replaceAll(candidate, this.includeFile),
        prefix,
      };
    } finally {
      await rm(testConfig, { force: true });
    }
  }

  /** The master's pid, or undefined when nginx is not running. */
  async masterPid(): Promise<number | undefined> {
    return readMasterPid(await this.pidFile());
  }

  async requireMaster(): Promise<number> {
    const master = await this.masterPid();
    if (master === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `nginx is not running (no live pid in ${await this.pidFile()}); start it with \`${this.config.binary} -c ${this.mainConfig}\``,
      );
    }
    return master;
  }

  /** SIGHUP, then wait until new workers run and every old one has stopped accepting. */
  async reload(master: number): Promise<void> {
    const started = performance.now();
    const old = new Set(
      listWorkers(master)
        .filter((worker) => !worker.shuttingDown)
        .map((worker) => worker.pid),
    );
    process.kill(master, 'SIGHUP');
    const deadline = Date.now() + this.config.reloadTimeout;
    for (;;) {
      const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
      if (active.length > 0 && active.every((worker) => !old.has(worker.pid))) break;
      if (Date.now() > deadline) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `nginx (pid ${master}) did not start workers with the new config within ${this.config.reloadTimeout}ms; see its error log`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.logger.info('router.nginx.reloaded', { master, ms: Math.round(performance.now() - started) });
  }

  private async pidFile(): Promise<string> {
    if (this.config.pidFile !== undefined) return path.resolve(this.baseDir, this.config.pidFile);
    const fromConfig = pidFileFromConfig(await this.readMainConfig());
    if (fromConfig === undefined) return DEFAULT_PID_FILE;
    // nginx resolves a relative pid against its prefix; without a configured one, the config's
    // folder is the usual `nginx -p "$PWD"` layout (the master's -p is unknown until its pid is).
    const base =
      this.config.prefix === undefined
        ? path.dirname(this.mainConfig)
        : path.resolve(this.baseDir, this.config.prefix);
    return path.resolve(base, fromConfig);
  }

  /** The configured prefix, else the running master's `-p`, else none (nginx's built-in). */
  private async prefix(): Promise<string | undefined> {
    if (this.config.prefix !== undefined) return path.resolve(this.baseDir, this.config.prefix);
    const master = await this.masterPid();
    return master === undefined ? undefined : masterPrefix(master);
  }

  /** The exact `include …;` text in the main config that names our file, if any. */
  private includeDirective(main: string): string | undefined {
    const spellings = [this.includeFile, path.relative(path.dirname(this.mainConfig), this.includeFile)];
    for (const spelling of spellings) {
      const escaped = spelling.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const match = new RegExp(`include\\s+(["']?)${escaped}\\1\\s*;`).exec(main);
      if (match !== null) return match[0];
    }
    return undefined;
  }
}

export function firstError(output: string): string {
  const lines = output.trim().split('\n');
  return (
    lines.find((line) => /\[emerg\]|\[alert\]|\[crit\]|\[error\]/.test(line)) ??
    lines[0] ??
    'no output'
  ).trim();
}
