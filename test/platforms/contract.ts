/**
 * The Platform contract: every platform runs these cases against the real thing (real
 * processes, a real container engine …). A platform's test file calls
 *
 *   runPlatformContract({ name: 'docker', setup: () => startDockerSubject() });
 *
 * and gets one `describe` block. The subject owns the world the platform runs in:
 *
 * - `create(variant)`: a fresh Platform object over the same state, as after a restart of
 *   cutover. Its instances run an app that answers `GET /` with the release it runs; with
 *   `variant: 'ignore-sigterm'` the app logs SIGTERM and keeps serving (only a forced stop ends it).
 *   Every slot runs two instances.
 * - `releases`: two releases that exist; `missingRelease`: one that does not.
 * - `sigtermsSeen(slot)`: how many SIGTERMs the slot's apps have recorded so far (readable after a stop).
 * - `countRunning()`: how many instances (processes, containers, whatever the platform starts)
 *   exist for the app, counted outside the platform so a duplicate cannot hide.
 * - `provisionInKilledProcess(slot, release)`: provision from a separate OS process, then
 *   SIGKILL that process (cutover crashing with instances up).
 * - `teardown()`: stop whatever is left and remove temp state.
 * - `releaseOf(instance)` (optional): which release an instance runs, asked outside the
 *   platform. Default: `GET /` on its host:port. A platform whose instances the test cannot
 *   reach (cloud instances in a fake cloud, whose addresses lead nowhere) reads it from what
 *   the instance was started from.
 *
 * Each case starts from nothing running and leaves nothing running.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import type { Slot } from '../../src/shared/slot.js';
import type { Instance, Platform } from '../../src/shared/platform.js';

export type AppVariant = 'default' | 'ignore-sigterm';

export interface PlatformContractSubject {
  create(variant?: AppVariant): Platform;
  readonly releases: readonly [string, string];
  readonly missingRelease: string;
  sigtermsSeen(slot: Slot): Promise<number>;
  countRunning(): Promise<number>;
  provisionInKilledProcess(slot: Slot, release: string): Promise<void>;
  teardown(): Promise<void>;
  releaseOf?(instance: Instance): Promise<string>;
}

export interface PlatformContractOptions {
  readonly name: string;
  readonly setup: () => Promise<PlatformContractSubject>;
}

const INSTANCES = 2;
const CASE_TIMEOUT_MS = 120_000;
/** How long a just-provisioned instance may take to answer (a slow start on a loaded machine). */
const ANSWER_WAIT_MS = 15_000;

export function runPlatformContract({ name, setup }: PlatformContractOptions): void {
  void describe(`platform contract: ${name}`, { timeout: CASE_TIMEOUT_MS * 10 }, () => {
    let subject: PlatformContractSubject;
    let v1: string;
    let v2: string;
    /** The release an instance runs: what it answers, or what the subject reads for it. */
    let releaseOf: (instance: Instance) => Promise<string>;
    before(async () => {
      subject = await setup();
      [v1, v2] = subject.releases;
      releaseOf = (instance) => (subject.releaseOf ? subject.releaseOf(instance) : answer(instance));
    });
    after(async () => {
      await subject?.teardown();
    });
    afterEach(async () => {
      await subject.create().reconcile(new Set());
    });

    const options = { timeout: CASE_TIMEOUT_MS };

    void it('describe() names the kind and the stop grace the engine retires slots with', () => {
      const description = subject.create().describe();
      assert.equal(description.kind, name);
      assert.ok(
        Number.isInteger(description.stopGraceMs) && description.stopGraceMs >= 0,
        `stopGraceMs is whole milliseconds, got ${description.stopGraceMs}`,
      );
    });

    void it(
      'provision is idempotent: the same release twice returns the same instances and starts no duplicate',
      options,
      async () => {
        const platform = subject.create();
        const first = await platform.provision('blue', v1);
        assert.equal(first.length, INSTANCES);
        const again = await platform.provision('blue', v1);
        assert.deepEqual(addresses(again), addresses(first));
        assert.equal(await subject.countRunning(), INSTANCES);
        for (const instance of again) assert.equal(await releaseOf(instance), v1);
      },
    );

    void it(
      'provision of another release replaces the slot: only the new release answers',
      options,
      async () => {
        const platform = subject.create();
        await platform.provision('blue', v1);
        const next = await platform.provision('blue', v2);
        assert.equal(next.length, INSTANCES);
        assert.ok(next.every((instance) => instance.release === v2 && instance.slot === 'blue'));
        for (const instance of next) assert.equal(await releaseOf(instance), v2);
        assert.equal(await subject.countRunning(), INSTANCES);
        assert.deepEqual(addresses(await platform.running('blue')), addresses(next));
      },
    );

    void it(
      'running() of a fresh platform object (after a restart) finds the same instances',
      options,
      async () => {
        const provisioned = await subject.create().provision('green', v1);
        const found = await subject.create().running('green');
        assert.deepEqual(addresses(found), addresses(provisioned));
        assert.deepEqual(await subject.create().running('blue'), []);
      },
    );

    void it('reconcile(keep) adopts the kept slot and stops the other one', options, async () => {
      const platform = subject.create();
      const blue = await platform.provision('blue', v1);
      await platform.provision('green', v2);
      assert.equal(await subject.countRunning(), 2 * INSTANCES);

      const result = await subject.create().reconcile(new Set<Slot>(['blue']));

      assert.deepEqual(addresses(result.blue), addresses(blue));
      assert.deepEqual(result.green, []);
      assert.equal(await subject.countRunning(), INSTANCES);
      for (const instance of result.blue) assert.equal(await releaseOf(instance), v1);
      assert.deepEqual(await subject.create().running('green'), []);
    });

    void it(
      'reconcile after kill -9 of the process running the platform: kept slot adopted, strays removed, no duplicates',
      options,
      async () => {
        await subject.create().provision('blue', v1);
        await subject.provisionInKilledProcess('green', v2);
        assert.equal(await subject.countRunning(), 2 * INSTANCES);

        const restarted = subject.create();
        const result = await restarted.reconcile(new Set<Slot>(['green']));

        assert.equal(result.green.length, INSTANCES);
        assert.ok(result.green.every((instance) => instance.release === v2));
        assert.deepEqual(result.blue, []);
        assert.equal(await subject.countRunning(), INSTANCES);
        // A rerun of the interrupted deployment's provision adopts, it does not duplicate.
        const rerun = await restarted.provision('green', v2);
        assert.deepEqual(addresses(rerun), addresses(result.green));
        assert.equal(await subject.countRunning(), INSTANCES);
        for (const instance of rerun) assert.equal(await releaseOf(instance), v2);
      },
    );

    void it(
      'stop sends SIGTERM, then forces an app that ignores it after the grace; twice is fine',
      options,
      async () => {
        const platform = subject.create('ignore-sigterm');
        const instances = await platform.provision('blue', v1);
        for (const instance of instances) assert.equal(await releaseOf(instance), v1);
        const termsBefore = await subject.sigtermsSeen('blue');

        await platform.stop('blue', { graceMs: 1_000 });

        assert.equal(
          (await subject.sigtermsSeen('blue')) - termsBefore,
          INSTANCES,
          'one SIGTERM per instance',
        );
        assert.deepEqual(await platform.running('blue'), []);
        assert.equal(await subject.countRunning(), 0);
        await platform.stop('blue', { graceMs: 1_000 });
      },
    );

    void it('logs() returns lines the instances wrote, each naming its instance', options, async () => {
      const platform = subject.create();
      const instances = await platform.provision('green', v1);
      const ids = new Set(instances.map((instance) => instance.id));
      let lines = await platform.logs('green', { tail: 20 });
      // The app may not have flushed its first line when provision() returns.
      for (let tries = 0; lines.length === 0 && tries < 100; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        lines = await platform.logs('green', { tail: 20 });
      }
      assert.ok(lines.length > 0, 'no log lines');
      assert.ok(
        lines.every((line) => ids.has(line.instanceId)),
        JSON.stringify(lines),
      );
    });

    void it(
      'checkRelease and provision of a missing release throw CUTOVER_E_NOT_FOUND and leave the other slot serving',
      options,
      async () => {
        const platform = subject.create();
        const blue = await platform.provision('blue', v1);
        await assert.rejects(platform.checkRelease!(subject.missingRelease), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
        );
        await assert.rejects(platform.provision('green', subject.missingRelease), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
        );
        for (const instance of blue) assert.equal(await releaseOf(instance), v1);
        assert.equal(await subject.countRunning(), INSTANCES);
      },
    );
  });
}

function addresses(instances: readonly Instance[]): string[] {
  return instances.map((instance) => `${instance.id}@${instance.host}:${instance.port}`).sort();
}

/** GET / over a fresh connection, tried again while the instance is not accepting yet. */
export async function answer(instance: Pick<Instance, 'host' | 'port'>): Promise<string> {
  const giveUpAt = Date.now() + ANSWER_WAIT_MS;
  for (;;) {
    try {
      return await getOnce(instance.host, instance.port);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ECONNRESET') || Date.now() > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function getOnce(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(body.trim())
          : reject(new Error(`HTTP ${response.statusCode}: ${body}`)),
      );
    });
    request.on('error', reject);
  });
}
