/**
 * One descriptor per router folder, and everything else read from the list of them: the
 * registry, the `router:` union of the config schema and the capability table.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { routerConfig } from '../../src/config/schema.js';
import { ROUTER_KIND_CAPABILITIES } from '../../src/routers/capabilities.js';
import { ROUTER_DESCRIPTORS } from '../../src/routers/descriptors.js';

const ROUTERS_DIR = fileURLToPath(new URL('../../src/routers/', import.meta.url));

void test('EveryRouterFolder_HasOneDescriptorInTheList_NamedAfterTheFolder', async () => {
  const folders = readdirSync(ROUTERS_DIR).filter((name) =>
    statSync(path.join(ROUTERS_DIR, name)).isDirectory(),
  );
  assert.deepEqual(Object.keys(ROUTER_DESCRIPTORS).sort(), [...folders].sort());
  for (const folder of folders) {
    const exported = Object.values((await import(`../../src/routers/${folder}/index.js`)) as object);
    assert.equal(exported.length, 1, `src/routers/${folder}/index.ts exports one descriptor`);
    assert.equal(exported[0], ROUTER_DESCRIPTORS[folder as keyof typeof ROUTER_DESCRIPTORS]);
  }
});

void test('TheRouterConfigUnion_IsTheDescriptorsSchemas_InListOrder', () => {
  const descriptors = Object.values(ROUTER_DESCRIPTORS);
  assert.deepEqual(
    routerConfig.options,
    descriptors.map((descriptor) => descriptor.configSchema),
  );
  for (const descriptor of descriptors) {
    const parsed = descriptor.configSchema.safeParse({ kind: 'nope' });
    assert.equal(parsed.success, false, `${descriptor.kind}'s schema insists on its own kind`);
  }
});

void test('TheCapabilityTable_IsReadFromTheDescriptors', () => {
  for (const [kind, descriptor] of Object.entries(ROUTER_DESCRIPTORS)) {
    assert.equal(descriptor.kind, kind);
    assert.equal(
      ROUTER_KIND_CAPABILITIES[kind as keyof typeof ROUTER_KIND_CAPABILITIES],
      descriptor.capabilities,
    );
  }
});
