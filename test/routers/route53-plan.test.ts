/**
 * Router.planMove / planDrain / planCleanup of the route53 router, against moto, in mode alias
 * (a switch) and mode weighted (a shift of 10/50/100, then the retired slot's record deleted):
 * planning submits no change, and the change batches the moves then submit, as moto recorded
 * them, are the planned batches, change for change. A move planned onto a record already where
 * it asks plans nothing; a split in mode alias is refused as the move is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Change } from '@aws-sdk/client-route-53';
import type { RouterDeps } from '../../src/routers/descriptor.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { route53Router } from '../../src/routers/route53/index.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { Logger } from '../../src/shared/logger.js';
import type { PlannedStep } from '../../src/shared/plan.js';
import type { Router } from '../../src/shared/router.js';
import { weightsAllOn, weightsWith, type Weights } from '../../src/shared/slot.js';
import { TEST_REGION } from '../support/aws-groups.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import { changeBatches, recordedRoute53Calls, startRecording } from '../support/route53-calls.js';
import { createRoute53Layout, type Route53Layout } from '../support/route53-layout.js';
import { useMotoCredentials } from './aws-router-harness.js';

const APP = 'shop';
const DEPS: RouterDeps = {
  logger: new Logger(() => {}),
  previewToken: 'unused-by-route53',
  baseDir: '/nonexistent',
  stateDir: '/nonexistent',
  app: APP,
};

/** A planned change as route53-calls.ts prints a recorded one. */
function describeChange(change: Change): string {
  const set = change.ResourceRecordSet!;
  const routing = set.SetIdentifier === undefined ? '' : ` [${set.SetIdentifier} ${String(set.Weight)}]`;
  return `${change.Action} ${set.Type} ${set.Name}${routing}`;
}

function plannedBatches(steps: readonly PlannedStep[]): string[][] {
  return steps.flatMap((step) => {
    if (step.kind !== 'call') return [];
    assert.equal(step.service, 'route53');
    assert.equal(step.operation, 'ChangeResourceRecordSets');
    const batch = step.input.ChangeBatch as unknown as { Changes: Change[] };
    return [batch.Changes.map(describeChange)];
  });
}

void describe('route53 router plans', () => {
  let moto: MotoServer;
  let serial = 0;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    useMotoCredentials();
    moto = await startMoto();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await moto.stop();
  });

  /** A fresh zone, two ELBs, and a router whose record names blue (the live slot). */
  async function liveOnBlue(mode: 'alias' | 'weighted'): Promise<{ layout: Route53Layout; g: Router }> {
    await moto.reset();
    const layout = await createRoute53Layout(moto.endpoint, `p${++serial}`);
    cleanups.push(() => layout.destroy());
    const config = route53Router.configSchema.parse({
      kind: 'route53',
      hostedZoneId: layout.zoneId,
      recordName: layout.recordName,
      mode,
      region: TEST_REGION,
      endpoint: moto.endpoint,
      maxAttempts: 1,
      settleTimeout: '10s',
      ttl: '1s',
      dnsMargin: '500ms',
    });
    const g = guardRouter((await route53Router.create(config, DEPS)).router);
    cleanups.push(() => g.close());
    await g.open();
    await g.prepare({ blue: [], green: [] }, { blue: layout.endpoints.blue });
    await g.setWeights(weightsAllOn('blue'));
    return { layout, g };
  }

  /** Plans `steps` then makes them (and the retire's cleanup), comparing moto's record of it. */
  async function planThenMove(layout: Route53Layout, g: Router, steps: readonly Weights[]) {
    await startRecording(moto.endpoint);
    const planned: PlannedStep[] = [];
    for (const weights of steps) {
      planned.push(
        ...(await g.planMove!({ from: 'blue', to: 'green', weights, endpoints: layout.endpoints })),
      );
    }
    const drain = await g.planDrain!('blue', { deadlineMs: 60_000, endpoints: layout.endpoints });
    const cleanup = await g.planCleanup!('blue');
    assert.deepEqual(
      changeBatches(await recordedRoute53Calls(moto.endpoint)),
      [],
      'planning changed nothing',
    );

    await startRecording(moto.endpoint);
    await g.prepare({ blue: [], green: [] }, layout.endpoints);
    for (const weights of steps) await g.setWeights(weights);
    await g.prepare({ blue: [], green: [] }, { green: layout.endpoints.green });
    await g.cleanup('blue');
    const made = changeBatches(await recordedRoute53Calls(moto.endpoint));
    assert.deepEqual(made, plannedBatches([...planned, ...cleanup]), 'the batches made are the planned ones');
    return { planned, drain, cleanup, made };
  }

  void it('alias: one UPSERT onto green, waited INSYNC; the drain holds TTL + dnsMargin; cleanup sends nothing', async () => {
    const { layout, g } = await liveOnBlue('alias');
    const { planned, drain, cleanup, made } = await planThenMove(layout, g, [weightsAllOn('green')]);
    assert.deepEqual(made, [[`UPSERT A ${layout.recordName}`]]);
    assert.deepEqual(
      planned.map((step) => step.kind),
      ['call', 'wait'],
    );
    assert.deepEqual(drain, [
      {
        kind: 'wait',
        until: `clients' cached answers for ${layout.recordName} expire: the TTL + dnsMargin after blue left the record`,
        deadlineMs: 1500,
      },
    ]);
    assert.deepEqual(cleanup, []);
    // The record names green now: planning the same move again plans nothing.
    const again = guardRouter(g);
    assert.deepEqual(
      await again.planMove!({
        from: 'blue',
        to: 'green',
        weights: weightsAllOn('green'),
        endpoints: layout.endpoints,
      }),
      [],
    );
    await assert.rejects(
      g.planMove!({
        from: 'green',
        to: 'blue',
        weights: weightsWith('blue', 50),
        endpoints: layout.endpoints,
      }),
      (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_ROUTER') && /mode alias moves all users at once/.test(String(error)),
    );
  });

  void it('weighted: 10/50/100 as three batches of both records, then blue’s record deleted at retire', async () => {
    const { layout, g } = await liveOnBlue('weighted');
    const steps = [10, 50, 100].map((percent) => weightsWith('green', percent));
    const { made } = await planThenMove(layout, g, steps);
    const name = layout.recordName;
    assert.deepEqual(made, [
      [`UPSERT A ${name} [${APP}-blue 230]`, `UPSERT A ${name} [${APP}-green 25]`],
      [`UPSERT A ${name} [${APP}-blue 128]`, `UPSERT A ${name} [${APP}-green 127]`],
      [`UPSERT A ${name} [${APP}-blue 0]`, `UPSERT A ${name} [${APP}-green 255]`],
      [`DELETE A ${name}. [${APP}-blue 0]`],
    ]);
  });
});
