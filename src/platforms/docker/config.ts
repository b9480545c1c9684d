import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { PLATFORM_SETTINGS } from '../descriptor.js';

/** How many releases' images are kept by default, so a rollback after the window needs no rebuild. */
export const DOCKER_KEEP_IMAGES_DEFAULT = 3;
/** How long provision() waits at most for a container to be running and, if it has one, HEALTHCHECK-healthy. */
export const DOCKER_READY_WAIT_MS = 60_000;
/** How long a fresh container must stay running before provision() trusts it started (exit-at-once detection). */
export const DOCKER_START_SETTLE_MS = 500;

const hostPortNumber = z.number().int().min(1).max(65535);

/**
 * `127.0.0.1` by default: a container's port is never reachable from other hosts unless the
 * config says so. `ports` fixes the host port of instance 0 of each slot (instance i takes
 * port + i); without it the engine picks free ports.
 */
const publishConfig = z
  .object({
    address: z.string().min(1).default('127.0.0.1'),
    ports: z.object({ blue: hostPortNumber, green: hostPortNumber }).strict().optional(),
  })
  .strict();

const buildConfig = z
  .object({
    /** Folder sent to the engine as the build context; relative to the config file. */
    context: z.string().min(1),
    /** Path of the Dockerfile inside the context. */
    dockerfile: z.string().min(1).default('Dockerfile'),
    /** Build arguments; values take ${RELEASE}. */
    args: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/** Registry credentials: a JSON file or an environment variable holding `{username, password, serveraddress}`. Never logged. */
const registryAuthConfig = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ env: z.string().min(1) }).strict(),
]);

const memorySize = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*[kmgKMG]?[bB]?$/)])
  .describe('bytes, or a size such as "256m", "1g"');

/**
 * Placeholders usable in command, entrypoint and env values: ${RELEASE}, ${SLOT}, ${INSTANCE},
 * ${PORT} (the container port) and ${HOST} (0.0.0.0: the address to bind inside the
 * container); in image and build args only ${RELEASE} (an image is per release). Each
 * container also gets PORT plus CUTOVER_APP, CUTOVER_SLOT, CUTOVER_RELEASE and
 * CUTOVER_INSTANCE in its environment.
 */
export const dockerPlatformConfig = z
  .object({
    kind: z.literal('docker'),
    /**
     * The engine's socket (a path, `unix:///path` or `tcp://host:port`). Default: DOCKER_HOST,
     * else /var/run/docker.sock.
     */
    socket: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The engine socket: a path, unix:///path or tcp://host:port (default: DOCKER_HOST, else /var/run/docker.sock)',
      ),
    /** Image tag per release, e.g. "registry.example/shop:${RELEASE}". Default with `build`: "cutover-<app>:${RELEASE}". */
    image: z
      .string()
      .min(1)
      .optional()
      .describe('Image tag per release, e.g. "registry.example/shop:${RELEASE}"'),
    build: buildConfig
      .optional()
      .describe('Build each release from a context folder (tagged as `image`, or cutover-<app>:${RELEASE})'),
    /** The port the app listens on inside the container. */
    port: z.number().int().min(1).max(65535).describe('The port the app listens on inside the container'),
    command: z.array(z.string()).min(1).optional().describe('Overrides the image CMD; placeholders work'),
    entrypoint: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('Overrides the image ENTRYPOINT; placeholders work'),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe('Environment of each container; values take ${RELEASE}, ${SLOT}, ${INSTANCE}, ${PORT}'),
    /** Files of KEY=VALUE lines (docker --env-file format); relative to the config file; `env` wins. */
    envFiles: z
      .array(z.string().min(1))
      .default([])
      .describe('KEY=VALUE files (docker --env-file format), relative to this file; env wins'),
    /** Bind mounts and named volumes, "source:target[:ro]"; a relative source resolves against the config file. */
    volumes: z.array(z.string().regex(/^[^:]+:\/[^:]*(:(ro|rw))?$/, 'source:/target[:ro|rw]')).default([]),
    /** A user-defined network the containers join (and where they are reached by name when `reach: name`). */
    network: z
      .string()
      .min(1)
      .optional()
      .describe('A user-defined network the containers join (created when missing)'),
    /** `published`: through a port published on the host; `name`: as <container-name>:<port> on `network`. */
    reach: z
      .enum(['published', 'name'])
      .default('published')
      .describe('published: through a host port; name: as <container>:<port> on `network`'),
    publish: publishConfig
      .prefault({})
      .describe('Where the port is published: address (127.0.0.1 unless set) and fixed ports per slot'),
    labels: z.record(z.string(), z.string()).default({}).describe('Extra container labels'),
    memory: memorySize.optional().describe('Memory limit per container, e.g. "256m"'),
    cpus: z.number().positive().max(1024).optional().describe('CPU limit per container, e.g. 0.5'),
    pull: z
      .enum(['never', 'missing', 'always'])
      .default('missing')
      .describe('When to pull the image: never, missing (default) or always'),
    registryAuth: registryAuthConfig
      .optional()
      .describe(
        'Registry credentials from { file } or { env } (JSON username/password/serveraddress); never logged',
      ),
    instances: z.number().int().min(1).max(64).default(DEFAULTS.instances).describe('Containers per slot'),
    ...PLATFORM_SETTINGS,
    /** Images of this many most recent releases are kept after a retire; older ones are removed. */
    keepImages: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DOCKER_KEEP_IMAGES_DEFAULT)
      .describe('Images of this many most recent releases are kept after a retire'),
  })
  .strict()
  .refine((config) => config.image !== undefined || config.build !== undefined, {
    message: 'set `image` (a tag with ${RELEASE}) or `build` (a context folder)',
    path: ['image'],
  })
  .refine((config) => config.reach !== 'name' || config.network !== undefined, {
    message:
      "`reach: name` needs `network` (a user-defined network both cutover's router and the containers are on)",
    path: ['network'],
  })
  .refine(
    (config) => {
      const ports = config.publish.ports;
      if (!ports) return true;
      const [low, high] = ports.blue <= ports.green ? [ports.blue, ports.green] : [ports.green, ports.blue];
      return low + config.instances <= high && high + config.instances - 1 <= 65535;
    },
    {
      message:
        "the slots' host ports overlap: instance i of a slot takes port + i, so blue and green need `instances` ports each",
      path: ['publish', 'ports'],
    },
  )
  .refine((config) => config.build === undefined || config.pull !== 'always', {
    message: 'an image cutover builds cannot be pulled: use `pull: never` or `missing` with `build`',
    path: ['pull'],
  });
export type DockerPlatformConfig = z.infer<typeof dockerPlatformConfig>;

/** "256m" → bytes. */
export function parseMemory(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgKMG]?)[bB]?$/.exec(value)!;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Math.round(Number(match[1]) * unit);
}
