/**
 * What cutover does on one host, each step one SSH command: install the host script, install a
 * release, run a task, start, list and stop instances, read logs. Values cutover sends (env,
 * commands) travel in the command's stdin, never on a command line another user could see.
 */
import { createReadStream } from 'node:fs';
import type { Slot } from '../../shared/slot.js';
import type { SshHost, SshPlatformConfig } from './config.js';
import { hostCommandError } from './host-failure.js';
import { HOST_SCRIPT, HOST_SCRIPT_NAME } from './host-script.js';
import type { PreparedArtifact } from './release-artifact.js';
import { shellQuote } from './shell-quote.js';
import type { ExecOptions, ExecResult, SshConnection } from './ssh-connection.js';

export interface RemoteInstance {
  readonly slot: Slot;
  readonly index: number;
  readonly release: string;
  readonly port: number;
  /** The supervisor runs. */
  readonly alive: boolean;
  readonly childPid: number;
  readonly restarts: number;
}

export interface InstanceLaunch {
  readonly slot: Slot;
  readonly index: number;
  readonly release: string;
  readonly port: number;
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
}

export class FleetHost {
  readonly name: string;
  private readonly root: string;

  constructor(
    readonly entry: SshHost,
    private readonly connection: SshConnection,
    private readonly config: Pick<SshPlatformConfig, 'root'>,
    private readonly app: string,
  ) {
    this.name = entry.host;
    this.root = config.root.replace(/\/+$/, '') || '/';
  }

  get script(): string {
    return `${this.root}/.cutover/${HOST_SCRIPT_NAME}`;
  }
  get appRunDir(): string {
    return `${this.root}/run/${this.app}`;
  }
  releaseDir(release: string): string {
    return `${this.root}/releases/${release}`;
  }
  instanceDir(slot: Slot, index: number): string {
    return `${this.appRunDir}/${slot}-${index}`;
  }
  logFile(slot: Slot, index: number): string {
    return `${this.root}/logs/${this.app}/${slot}-${index}.log`;
  }

  private async run(command: string, what: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.connection.exec(command, options);
    if (result.code !== 0) throw hostCommandError(this.name, what, result);
    return result;
  }

  /** Installs the host script unless this version is there already. */
  async installScript(signal?: AbortSignal): Promise<void> {
    const script = shellQuote(this.script);
    await this.run(
      `umask 077; if [ ! -f ${script} ]; then mkdir -p ${shellQuote(`${this.root}/.cutover`)} && cat > ${script}.tmp.$$ && mv ${script}.tmp.$$ ${script}; else cat > /dev/null; fi`,
      'installing the cutover host script',
      { stdin: HOST_SCRIPT, signal },
    );
  }

  async list(signal?: AbortSignal): Promise<RemoteInstance[]> {
    const result = await this.run(
      `[ -f ${shellQuote(this.script)} ] || exit 0; sh ${shellQuote(this.script)} list ${shellQuote(this.appRunDir)}`,
      'listing instances',
      { signal },
    );
    return parseList(result.stdout);
  }

  /** True when `release` is in place on the host with this checksum (or, for commands, complete). */
  async hasRelease(release: string, mark: string, signal?: AbortSignal): Promise<boolean> {
    const result = await this.connection.exec(
      `cat ${shellQuote(`${this.releaseDir(release)}/.cutover-release`)} 2>/dev/null`,
      { signal },
    );
    return result.code === 0 && result.stdout.trim() === mark;
  }

  /** Uploads the artifact to a temp dir, checks its sha256, unpacks it and renames it into place. */
  async uploadRelease(release: string, artifact: PreparedArtifact, signal?: AbortSignal): Promise<void> {
    const target = this.releaseDir(release);
    const script = [
      'set -e',
      `temp=${shellQuote(`${this.root}/releases/.incoming-${release}`)}-$$`,
      `trap 'rm -rf "$temp" "$temp.tar"' EXIT`,
      'mkdir -p "$temp"',
      'cat > "$temp.tar"',
      `got=$(sha256sum "$temp.tar" | cut -d' ' -f1)`,
      `if [ "$got" != ${shellQuote(artifact.sha256)} ]; then echo "checksum mismatch: uploaded $got, expected ${artifact.sha256}" >&2; exit 3; fi`,
      `tar -x${artifact.gzip ? 'z' : ''}f "$temp.tar" -C "$temp"`,
      `printf '%s\\n' ${shellQuote(`sha256:${artifact.sha256}`)} > "$temp/.cutover-release"`,
      `if [ -e ${shellQuote(target)} ]; then mv ${shellQuote(target)} "$temp.old"; fi`,
      `mv "$temp" ${shellQuote(target)}`,
      'rm -rf "$temp.old"',
    ].join('\n');
    // The script is the command (sh -c); the stdin is the tarball.
    await this.run(`sh -c ${shellQuote(script)}`, `uploading release ${release}`, {
      stdin: createReadStream(artifact.file),
      signal,
    });
  }

  /** Runs `commands` with RELEASE_DIR a temp dir that becomes the release dir when they all succeed. */
  async fetchRelease(
    release: string,
    commands: readonly string[],
    onLine: (line: string) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const target = this.releaseDir(release);
    const script = [
      'set -e',
      `RELEASE_DIR=${shellQuote(`${this.root}/releases/.incoming-${release}`)}`,
      `RELEASE=${shellQuote(release)}`,
      'export RELEASE_DIR RELEASE',
      'rm -rf "$RELEASE_DIR"; mkdir -p "$RELEASE_DIR"; cd "$RELEASE_DIR"',
      ...commands,
      `printf '%s\\n' 'commands' > "$RELEASE_DIR/.cutover-release"`,
      `rm -rf ${shellQuote(target)}; mv "$RELEASE_DIR" ${shellQuote(target)}`,
    ].join('\n');
    await this.run('sh -s', `fetching release ${release}`, { stdin: script, onLine, signal });
  }

  /** Runs a task's commands in the release dir; the first failing one ends it. */
  async runTask(
    name: string,
    release: string,
    commands: readonly string[],
    onLine: (line: string) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const script = [
      'set -e',
      `RELEASE=${shellQuote(release)}; RELEASE_DIR=${shellQuote(this.releaseDir(release))}; export RELEASE RELEASE_DIR`,
      'cd "$RELEASE_DIR"',
      ...commands,
    ].join('\n');
    await this.run('sh -s', `task ${name}`, { stdin: script, onLine, signal });
  }

  /** Writes the instance's files and starts its supervisor. */
  async start(launch: InstanceLaunch, signal?: AbortSignal): Promise<void> {
    const dir = this.instanceDir(launch.slot, launch.index);
    const envLines = Object.entries(launch.env)
      .map(([key, value]) => `export ${key}=${shellQuote(value)}`)
      .join('\n');
    const files: Record<string, string> = {
      release: launch.release,
      port: String(launch.port),
      command: launch.command,
      workdir: this.releaseDir(launch.release),
      logfile: this.logFile(launch.slot, launch.index),
      env: envLines,
    };
    const script = [
      'set -e',
      'umask 077',
      `dir=${shellQuote(dir)}`,
      'rm -rf "$dir"; mkdir -p "$dir"',
      `mkdir -p ${shellQuote(`${this.root}/logs/${this.app}`)}`,
      ...Object.entries(files).map(([file, value]) => `printf '%s\\n' ${shellQuote(value)} > "$dir/${file}"`),
      `sh ${shellQuote(this.script)} start "$dir"`,
    ].join('\n');
    await this.run('sh -s', `starting instance ${launch.slot}-${launch.index}`, { stdin: script, signal });
  }

  /** Stops these instances of the slot (all of it when `indexes` is absent) within the grace. */
  async stop(slot: Slot, graceMs: number, indexes?: readonly number[], signal?: AbortSignal): Promise<void> {
    const dirs = indexes
      ? indexes.map((index) => shellQuote(this.instanceDir(slot, index)))
      : [`${shellQuote(this.appRunDir)}/${slot}-*`];
    const script = `[ -f ${shellQuote(this.script)} ] || exit 0
for dir in ${dirs.join(' ')}; do [ -d "$dir" ] && sh ${shellQuote(this.script)} stop "$dir" ${Math.max(0, Math.round(graceMs))} & done
wait`;
    await this.run(script, `stopping slot ${slot}`, { signal });
  }

  /** The last `tail` lines of each listed instance's log. */
  async tailLogs(
    instances: readonly { slot: Slot; index: number }[],
    tail: number,
  ): Promise<Map<number, string[]>> {
    const lines = new Map<number, string[]>();
    await Promise.all(
      instances.map(async ({ slot, index }) => {
        const result = await this.connection.exec(
          `tail -n ${Math.max(0, tail)} ${shellQuote(this.logFile(slot, index))} 2>/dev/null`,
        );
        lines.set(
          index,
          result.stdout.split('\n').filter((line) => line !== ''),
        );
      }),
    );
    return lines;
  }
}

/** Parses the host script's `list` output; a line that is not an instance is skipped. */
export function parseList(text: string): RemoteInstance[] {
  const instances: RemoteInstance[] = [];
  for (const line of text.split('\n')) {
    const [slot, index, release, port, alive, child, restarts] = line.trim().split(' ');
    if (
      (slot !== 'blue' && slot !== 'green') ||
      !release ||
      !/^\d{1,2}$/.test(index ?? '') ||
      !/^\d{1,5}$/.test(port ?? '') ||
      Number(port) > 65535
    )
      continue;
    instances.push({
      slot,
      index: Number(index),
      release,
      port: Number(port),
      alive: alive === '1',
      childPid: Number(child) || 0,
      restarts: Number(restarts) || 0,
    });
  }
  return instances.sort((a, b) => a.index - b.index);
}
