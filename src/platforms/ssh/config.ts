import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { duration } from '../../config/fields.js';
import { PLATFORM_SETTINGS } from '../descriptor.js';

/** How long provision() waits at most for a fresh instance to accept TCP connections. */
export const SSH_START_WAIT_MS = 20_000;
/** How long a fresh instance must keep running before provision() trusts it started. */
export const SSH_START_SETTLE_MS = 400;

const portNumber = z.number().int().min(1).max(65535);
/** Roles and names: letters, digits, `.`, `_`, `-` (they end up in file names and shell words). */
const word = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-"');

const hostEntry = z
  .object({
    /** Address (or DNS name) cutover connects to. */
    host: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\s'"`$\\]+$/, 'a host name or address'),
    port: portNumber.optional().describe('SSH port of this host (default: the platform `port`)'),
    /** Where the router reaches the instances (default: `host`). */
    address: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe('Where routers reach the instances (default: host)'),
    roles: z.array(word).default([]).describe('Roles of this host; tasks may run on some roles only'),
  })
  .strict();
export type SshHost = z.infer<typeof hostEntry>;

const jumpHost = z
  .object({
    host: z.string().min(1).max(255),
    port: portNumber.default(22),
    user: z.string().min(1).optional().describe('Default: the platform `user`'),
  })
  .strict();

const portRange = z
  .object({ from: z.number().int().min(1024).max(65535), to: z.number().int().min(1024).max(65535) })
  .strict()
  .refine((range) => range.from <= range.to, { message: '`to` must not be below `from`', path: ['to'] });

/** "90%" of the hosts, or a number of hosts. */
const minHealthy = z
  .union([z.number().int().min(1), z.string().regex(/^(100|[1-9]?\d)%$/, 'a percentage such as "90%"')])
  .default('100%')
  .describe('Hosts that must provision for the deploy to go on: "90%" or a number (default: all)');

const artifact = z
  .object({
    /** A tarball (.tar.gz/.tgz/.tar) or a directory per release; takes ${RELEASE}; relative to the config file. */
    path: z.string().min(1).describe('A tarball or directory per release, e.g. "dist/app-${RELEASE}.tgz"'),
  })
  .strict();

const task = z
  .object({
    when: z
      .enum(['before', 'after', 'smoke'])
      .describe('before: ahead of the start; after: once started; smoke: a check on each host'),
    roles: z.array(word).default([]).describe('Run on hosts with one of these roles (default: every host)'),
    commands: z.array(z.string().min(1)).min(1).describe('Shell commands run in order in the release dir'),
  })
  .strict();
export type SshTask = z.infer<typeof task>;

/**
 * Placeholders in `start`, `commands`, tasks and env values: ${RELEASE}, ${SLOT}, ${INSTANCE},
 * ${PORT} (only in `start` and env) and ${RELEASE_DIR}. Every instance also gets PORT,
 * CUTOVER_APP, CUTOVER_SLOT, CUTOVER_RELEASE and CUTOVER_INSTANCE in its environment.
 */
export const sshPlatformConfig = z
  .object({
    kind: z.literal('ssh'),
    hosts: z.array(hostEntry).min(1).max(1000).describe('The fleet: { host, port?, address?, roles? }'),
    user: z
      .string()
      .min(1)
      .regex(/^[a-z_][a-z0-9_.-]*$/i, 'a user name')
      .describe('The SSH user'),
    port: portNumber.default(22).describe('SSH port (default 22)'),
    identityFile: z
      .string()
      .min(1)
      .optional()
      .describe('Private key file (relative to this file); without it the ssh agent (SSH_AUTH_SOCK) is used'),
    passphraseEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional()
      .describe('Environment variable holding the key passphrase (never logged)'),
    knownHosts: z
      .union([z.string().min(1), z.literal(false)])
      .default('~/.ssh/known_hosts')
      .describe('OpenSSH known_hosts file the host keys are checked against; false turns checking off'),
    jumpHost: jumpHost.optional().describe('A bastion every connection goes through'),
    concurrency: z.number().int().min(1).max(256).default(8).describe('Hosts worked on at once'),
    connectTimeout: duration().default(10_000).describe('SSH connection and handshake time limit per host'),
    hostTimeout: duration()
      .default(300_000)
      .describe('Time limit for all of one provision on one host (upload, tasks, start)'),
    root: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]*$/, 'an absolute path of letters, digits, ".", "_", "-" and "/"')
      .describe('Directory on each host holding releases/, run/ and logs/'),
    artifact: artifact.optional().describe('Upload this per release to <root>/releases/<release>'),
    commands: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Or: commands that fill ${RELEASE_DIR} on the host (git checkout, docker pull …)'),
    start: z
      .string()
      .min(1)
      .describe('Command starting one instance in the release dir; ${PORT} is its port'),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    instancesPerHost: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(DEFAULTS.instances)
      .describe('Instances per host per slot'),
    portRange: portRange.describe('Ports the instances take on each host: blue first, then green'),
    minHealthy,
    tasks: z
      .record(word, task)
      .default({})
      .describe('Named command lists run per role (before, after, smoke)'),
    ...PLATFORM_SETTINGS,
  })
  .strict()
  .refine((config) => (config.artifact === undefined) !== (config.commands === undefined), {
    message: 'set exactly one of `artifact` (upload a release) or `commands` (fetch it on the host)',
    path: ['artifact'],
  })
  .refine((config) => config.portRange.to - config.portRange.from + 1 >= 2 * config.instancesPerHost, {
    message: 'portRange needs 2 × instancesPerHost ports (blue and green each get instancesPerHost)',
    path: ['portRange'],
  })
  .refine(
    (config) => new Set(config.hosts.map((h) => `${h.host}:${h.port ?? ''}`)).size === config.hosts.length,
    {
      message: 'a host is listed twice',
      path: ['hosts'],
    },
  );
export type SshPlatformConfig = z.infer<typeof sshPlatformConfig>;

/** The first port of a slot's instances on every host. */
export function slotBasePort(
  config: Pick<SshPlatformConfig, 'portRange' | 'instancesPerHost'>,
  slot: 'blue' | 'green',
): number {
  return config.portRange.from + (slot === 'blue' ? 0 : config.instancesPerHost);
}

/** How many hosts must succeed out of `total`. */
export function requiredHosts(minHealthySetting: number | string, total: number): number {
  if (typeof minHealthySetting === 'number') return Math.min(minHealthySetting, total);
  const percent = Number(minHealthySetting.slice(0, -1));
  return Math.max(1, Math.ceil((percent * total) / 100));
}
