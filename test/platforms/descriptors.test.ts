/**
 * One descriptor per platform folder, and everything else read from the list of them: the
 * registry and the `platform:` union of the config schema. Every platform has the common
 * settings (stopGrace), and the engine reads them through the Platform, not one kind's config.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import YAML from 'yaml';
import { healthCheck } from '../../src/config/health-check.js';
import { parseConfigText } from '../../src/config/load.js';
import { platformConfig } from '../../src/config/schema.js';
import { PLATFORM_SETTINGS, type PlatformDescriptor } from '../../src/platforms/descriptor.js';
import { PLATFORM_DESCRIPTORS } from '../../src/platforms/descriptors.js';
import { createPlatform } from '../../src/platforms/registry.js';
import { silentLogger } from '../../src/shared/logger.js';

const PLATFORMS_DIR = fileURLToPath(new URL('../../src/platforms/', import.meta.url));

void test('EveryPlatformFolder_HasOneDescriptorInTheList_NamedAfterTheFolder', async () => {
  const folders = readdirSync(PLATFORMS_DIR).filter((name) =>
    statSync(path.join(PLATFORMS_DIR, name)).isDirectory(),
  );
  assert.deepEqual(Object.keys(PLATFORM_DESCRIPTORS).sort(), [...folders].sort());
  for (const folder of folders) {
    const exported = Object.values((await import(`../../src/platforms/${folder}/index.js`)) as object);
    assert.equal(exported.length, 1, `src/platforms/${folder}/index.ts exports one descriptor`);
    assert.equal(exported[0], PLATFORM_DESCRIPTORS[folder as keyof typeof PLATFORM_DESCRIPTORS]);
  }
});

void test('ThePlatformConfigUnion_IsTheDescriptorsSchemas_InListOrder', () => {
  const descriptors = Object.values(PLATFORM_DESCRIPTORS);
  assert.deepEqual(
    platformConfig.options,
    descriptors.map((descriptor) => descriptor.configSchema),
  );
  for (const descriptor of descriptors) {
    assert.equal(descriptor.configSchema.safeParse({ kind: 'nope' }).success, false);
  }
});

void test('EveryPlatformSchema_HasTheCommonStopGrace', () => {
  for (const descriptor of Object.values(PLATFORM_DESCRIPTORS)) {
    const shape = (descriptor.configSchema as unknown as z.ZodObject).shape;
    assert.equal(
      shape.stopGrace,
      PLATFORM_SETTINGS.stopGrace,
      `${descriptor.kind} spreads PLATFORM_SETTINGS`,
    );
  }
});

void test('EveryPlatform_ReportsItsConfiguredStopGrace_ThroughDescribe', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-platform-descriptors-'));
  try {
    const sections = {
      process: 'platform:\n  kind: process\n  command: /bin/true\n  stopGrace: 2.5s\n',
      docker: 'platform:\n  kind: docker\n  image: shop:${RELEASE}\n  port: 8080\n  stopGrace: 2.5s\n',
      ssh:
        'platform:\n  kind: ssh\n  hosts: [{ host: 10.0.0.1 }]\n  user: deploy\n  root: /srv/web\n' +
        '  artifact: { path: "web-${RELEASE}.tgz" }\n  start: ./run\n  portRange: { from: 9000, to: 9009 }\n  stopGrace: 2.5s\n',
      'aws-asg':
        'platform:\n  kind: aws-asg\n  region: us-east-1\n  image: ami-0abc1234\n  subnets: [subnet-0abc1234]\n  stopGrace: 2.5s\n',
    } satisfies Record<keyof typeof PLATFORM_DESCRIPTORS, string>;
    for (const [kind, section] of Object.entries(sections)) {
      const descriptor = PLATFORM_DESCRIPTORS[
        kind as keyof typeof PLATFORM_DESCRIPTORS
      ] as PlatformDescriptor;
      const endpointKind = descriptor.capabilities.endpointKind;
      const platform =
        endpointKind === undefined
          ? await createPlatform(
              parseConfigText(`app: web\nstateDir: ${kind}\n${section}`, path.join(dir, 'cutover.yml')),
              silentLogger,
            )
          : // A slot that is an endpoint needs a router that routes to its kind; the descriptor
            // is created directly so this test does not depend on one.
            await descriptor.create(
              descriptor.configSchema.parse((YAML.parse(section) as { platform: unknown }).platform),
              {
                app: 'web',
                baseDir: dir,
                stateDir: path.join(dir, kind),
                logger: silentLogger,
                health: platformHealthDefaults(),
              },
            );
      try {
        assert.deepEqual(platform.describe(), {
          kind,
          stopGraceMs: 2500,
          ...(endpointKind === undefined ? {} : { endpointKind }),
        });
      } finally {
        await platform.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The health section a config without one gets. */
function platformHealthDefaults() {
  return healthCheck.parse({});
}

void test('APlatformWithoutStopGrace_GetsTheDefault', () => {
  const parsed = z.object(PLATFORM_SETTINGS).parse({});
  assert.equal(parsed.stopGrace, 10_000);
});
