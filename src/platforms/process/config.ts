import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { PLATFORM_SETTINGS } from '../descriptor.js';

/** How long a fresh instance must stay up before provision() trusts it started (exit-at-once detection). */
export const PROCESS_START_SETTLE_MS = 500;
/**
 * How long after its start provision() waits at most for an instance to listen on its port. An
 * exit within this time is still reported as an exit right after start, with its log lines.
 */
export const PROCESS_START_WAIT_MS = 10_000;

/** How often the process platform checks the size of its instances' log files. */
export const LOG_ROTATION_CHECK_MS = 1_000;

const portNumber = z.number().int().min(1024).max(65535);

/**
 * Each instance's output goes to `<stateDir>/logs/<slot>-<index>.log`. Past `maxBytes` (checked
 * every second, so a file may pass it by what the instance writes in that second) it is copied
 * to `.1` and emptied; `.1` … `.<keep>` are kept, the oldest dropped.
 */
const instanceLogs = z
  .object({
    maxBytes: z
      .number()
      .int()
      .min(4096)
      .default(DEFAULTS.processLogMaxBytes)
      .describe('Rotate an instance log file once it is larger than this many bytes'),
    keep: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULTS.processLogKeep)
      .describe('Rotated files kept per instance (<log>.1 newest … <log>.N oldest)'),
  })
  .strict();

const instancePortRange = z
  .object({ from: portNumber, to: portNumber })
  .strict()
  .refine((range) => range.from <= range.to, {
    message: '`to` must not be below `from`',
    path: ['to'],
  });
export type InstancePortRange = z.infer<typeof instancePortRange>;

/**
 * Placeholders usable in command, args, env values and cwd: ${PORT}, ${RELEASE}, ${SLOT},
 * ${INSTANCE} (the instance's index in its slot: 0, 1, …) and ${HOST}. Each instance also gets
 * PORT in its environment (overridable by `env`), plus CUTOVER_APP, CUTOVER_SLOT,
 * CUTOVER_RELEASE and CUTOVER_INSTANCE.
 */
export const processPlatformConfig = z
  .object({
    kind: z.literal('process'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /** Working directory per release, e.g. "releases/${RELEASE}"; relative to the config file. */
    cwd: z.string().min(1).default('.'),
    instances: z.number().int().min(1).max(64).default(DEFAULTS.instances),
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * Where instance ports come from, e.g. { from: 20000, to: 29999 }. Default: the kernel picks
     * free ports from its ephemeral range, which outgoing connections also draw from, so one can
     * take a port between cutover's probe and the app's bind (cutover then retries the instance
     * once). A range outside the ephemeral one (see /proc/sys/net/ipv4/ip_local_port_range)
     * leaves no such window.
     */
    ports: instancePortRange.optional(),
    ...PLATFORM_SETTINGS,
    logs: instanceLogs.prefault({}).describe('Size-based rotation of each instance log file'),
  })
  .strict();
export type ProcessPlatformConfig = z.infer<typeof processPlatformConfig>;
