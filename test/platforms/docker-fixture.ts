// Shared set-up for the docker platform tests: a private podman engine, the busybox test image
// tagged per release, a temp app folder, and platforms over that engine.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '../../src/shared/logger.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { HealthCheckConfig } from '../../src/config/schema.js';
import { dockerPlatformConfig, type DockerPlatformConfig } from '../../src/platforms/docker/config.js';
import { labelFilter } from '../../src/platforms/docker/container-naming.js';
import { createDockerPlatform } from '../../src/platforms/docker/docker-platform.js';
import type { Platform } from '../../src/shared/platform.js';
import type { Slot } from '../../src/shared/slot.js';
import { startPodman, type PodmanEngine } from '../support/daemons/podman.js';
import { buildTestImage, TEST_IMAGE_REPO } from '../support/docker-test-image.js';

/** The port the test app listens on inside its container. */
export const APP_PORT = 8000;

export interface DockerFixture {
  readonly engine: PodmanEngine;
  readonly docker: Docker;
  readonly app: string;
  readonly baseDir: string;
  /** A host dir mounted at /marks in every container (the app notes SIGTERMs there). */
  readonly markDir: string;
  config(overrides?: Record<string, unknown>): DockerPlatformConfig;
  platform(
    overrides?: Record<string, unknown>,
    options?: { health?: HealthCheckConfig; logger?: Logger },
  ): Platform;
  /** Every container of the app, running or not. */
  containers(): Promise<Docker.ContainerInfo[]>;
  /** SIGTERMs the apps of `slot` noted in the mark dir so far. */
  sigtermCount(slot: Slot): Promise<number>;
  cleanup(): Promise<void>;
}

export async function makeDockerFixture(releases: readonly string[] = ['v1', 'v2']): Promise<DockerFixture> {
  const engine = await startPodman();
  const docker = new Docker({ socketPath: engine.socket });
  const baseDir = await mkdtemp(join(tmpdir(), 'cutover-docker-'));
  const markDir = join(baseDir, 'marks');
  await mkdir(markDir);
  try {
    await buildTestImage(docker, releases);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  const app = 'ctest';
  const config = (overrides: Record<string, unknown> = {}) =>
    dockerPlatformConfig.parse({
      kind: 'docker',
      socket: engine.dockerHost,
      image: `${TEST_IMAGE_REPO}:\${RELEASE}`,
      port: APP_PORT,
      pull: 'never',
      stopGrace: '1s',
      volumes: [`${markDir}:/marks`],
      ...overrides,
      env: { MARK_DIR: '/marks', ...((overrides.env as Record<string, string> | undefined) ?? {}) },
    });
  const containers = () => docker.listContainers({ all: true, filters: labelFilter(app) });
  return {
    engine,
    docker,
    app,
    baseDir,
    markDir,
    config,
    platform: (overrides = {}, options = {}) =>
      createDockerPlatform(config(overrides), {
        app,
        baseDir,
        logger: options.logger ?? silentLogger,
        health: options.health,
      }),
    containers,
    async sigtermCount(slot) {
      const text = await readFile(join(markDir, 'terms'), 'utf8').catch(() => '');
      return text.split('\n').filter((line) => line.startsWith(`SIGTERM ${slot} `)).length;
    },
    async cleanup() {
      try {
        await engine.stop();
      } finally {
        await rm(baseDir, { recursive: true, force: true });
      }
    },
  };
}
