/**
 * The route53 router against moto (a hosted zone and two Classic ELBs, one per slot), read
 * back from Route 53's own record sets and moto's request recorder. The endpoint contract
 * (endpoint-contract.ts) speaks of groups attached to one balancer, which a DNS record is not;
 * its promises are checked here in DNS terms: prepare moves nothing; a move is one change
 * batch, read back; refusals for what the router lacks; verify shows a hand edit; a rerun
 * changes nothing twice; an unreachable or hostile API is CUTOVER_E_ROUTER. And what DNS adds:
 * weighted steps mapped onto 0–255, a change that stays PENDING past its deadline, the drain
 * hold of TTL + dnsMargin, and the IAM policy in docs/aws-routers.md.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RouterDeps } from '../../src/routers/descriptor.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { route53Router } from '../../src/routers/route53/index.js';
import { isCutoverError, type ErrorCode } from '../../src/shared/errors.js';
import { Logger } from '../../src/shared/logger.js';
import type { Router } from '../../src/shared/router.js';
import { weightsAllOn, type Slot } from '../../src/shared/slot.js';
import { TEST_REGION } from '../support/aws-groups.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import { changeBatches, recordedRoute53Calls, startRecording } from '../support/route53-calls.js';
import { createRoute53Layout, type Route53Layout } from '../support/route53-layout.js';
import { startRoute53StandIn } from '../support/route53-stand-in.js';
import { useMotoCredentials } from './aws-router-harness.js';

const APP = 'shop';
const CASE_TIMEOUT_MS = 60_000;
const DOC = fileURLToPath(new URL('../../docs/aws-routers.md', import.meta.url));

const QUIET_DEPS: RouterDeps = {
  logger: new Logger(() => {}),
  previewToken: 'unused-by-route53',
  baseDir: '/nonexistent',
  stateDir: '/nonexistent',
  app: APP,
};

interface RouterOptions {
  readonly mode?: 'alias' | 'weighted';
  readonly endpoint?: string;
  readonly settleTimeout?: string;
  readonly callTimeout?: string;
  readonly ttl?: string;
  readonly dnsMargin?: string;
  readonly recordName?: string;
  readonly maxAttempts?: number;
}

async function createRoute53Router(
  layout: Pick<Route53Layout, 'zoneId' | 'recordName'>,
  endpoint: string,
  options: RouterOptions = {},
): Promise<Router> {
  const config = route53Router.configSchema.parse({
    kind: 'route53',
    hostedZoneId: layout.zoneId,
    recordName: options.recordName ?? layout.recordName,
    mode: options.mode ?? 'alias',
    region: TEST_REGION,
    endpoint: options.endpoint ?? endpoint,
    maxAttempts: options.maxAttempts ?? 1,
    settleTimeout: options.settleTimeout ?? '10s',
    callTimeout: options.callTimeout ?? '10s',
    ttl: options.ttl ?? '1s',
    dnsMargin: options.dnsMargin ?? '500ms',
  });
  return (await route53Router.create(config, QUIET_DEPS)).router;
}

function rejectsWith(code: ErrorCode, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(isCutoverError(error, code), `expected ${code}, got ${String(error)}`);
    if (pattern !== undefined) assert.match((error as Error).message, pattern);
    return true;
  };
}

describe('route53 router', () => {
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

  /** A fresh zone and two ELBs; a guarded router prepared with both slots (nothing moved yet). */
  const fresh = async (options: RouterOptions = {}): Promise<{ layout: Route53Layout; g: Router }> => {
    await moto.reset();
    const layout = await createRoute53Layout(moto.endpoint, `c${++serial}`);
    cleanups.push(() => layout.destroy());
    const g = guardRouter(await createRoute53Router(layout, moto.endpoint, options));
    cleanups.push(() => g.close());
    await g.open();
    await g.prepare({ blue: [], green: [] }, layout.endpoints);
    return { layout, g };
  };

  /** The alias record's target, as Route 53 lists it. */
  const aliasTarget = async (layout: Route53Layout): Promise<string[]> =>
    (await layout.records()).map(
      (set) => `${set.Type ?? ''} ${set.AliasTarget?.DNSName ?? set.ResourceRecords?.[0]?.Value ?? ''}`,
    );
  const dnsNameOf = (layout: Route53Layout, slot: Slot): string =>
    layout.endpoints[slot].details?.dnsName ?? '';

  /** Weighted records by set identifier: weight and target. */
  const weightedRecords = async (layout: Route53Layout): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await layout.records()).map((set) => [
        set.SetIdentifier ?? '(simple)',
        `${String(set.Weight)} → ${set.AliasTarget?.DNSName ?? ''}`,
      ]),
    );

  describe('mode alias', () => {
    it(
      'prepare changes nothing; the first move writes one alias to the live slot’s load balancer',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh();
        await startRecording(moto.endpoint);
        await g.prepare({ blue: [], green: [] }, layout.endpoints);
        assert.deepEqual(
          changeBatches(await recordedRoute53Calls(moto.endpoint)),
          [],
          'prepare changes nothing',
        );
        const before = await g.verify();
        assert.equal(before.kind, 'converging', 'no record yet is not a settled state');
        await g.setWeights(weightsAllOn('blue'));
        assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'blue')}`]);
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      },
    );

    it(
      'a switch is one UPSERT of the alias, read back; the same move again changes nothing',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh();
        await g.setWeights(weightsAllOn('blue'));
        for (const next of ['green', 'blue', 'green'] as const) {
          await startRecording(moto.endpoint);
          await g.setWeights(weightsAllOn(next));
          assert.deepEqual(changeBatches(await recordedRoute53Calls(moto.endpoint)), [
            [`UPSERT A ${layout.recordName}`],
          ]);
          assert.deepEqual(
            await aliasTarget(layout),
            [`A ${dnsNameOf(layout, next)}`],
            `after the switch to ${next}`,
          );
          assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn(next) });
        }
        // The engine's retry after a crash asks for the same move: nothing is written twice.
        const restarted = guardRouter(await createRoute53Router(layout, moto.endpoint));
        cleanups.push(() => restarted.close());
        await restarted.open();
        await restarted.prepare({ blue: [], green: [] }, layout.endpoints);
        await startRecording(moto.endpoint);
        await restarted.setWeights(weightsAllOn('green'));
        assert.deepEqual(changeBatches(await recordedRoute53Calls(moto.endpoint)), []);
        assert.deepEqual(await restarted.verify(), { kind: 'observed', weights: weightsAllOn('green') });
      },
    );

    it('a split and a preview are refused and nothing moves', { timeout: CASE_TIMEOUT_MS }, async () => {
      const { layout, g } = await fresh();
      await g.setWeights(weightsAllOn('blue'));
      assert.equal(g.describe().capabilities.weighted, false);
      await startRecording(moto.endpoint);
      await assert.rejects(
        g.setWeights({ blue: 70, green: 30 }),
        rejectsWith('CUTOVER_E_ROUTER', /mode: weighted/),
      );
      await assert.rejects(g.preview('green'), rejectsWith('CUTOVER_E_ROUTER'));
      assert.deepEqual(changeBatches(await recordedRoute53Calls(moto.endpoint)), []);
      assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'blue')}`]);
    });

    it(
      'verify reads back what Route 53 holds, not what was last asked',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh();
        await g.setWeights(weightsAllOn('green'));
        await layout.upsertByHand({
          Name: layout.recordName,
          Type: 'A',
          AliasTarget: {
            DNSName: 'elsewhere.us-east-1.elb.amazonaws.com',
            HostedZoneId: 'Z35SXDOTRQ7X7K',
            EvaluateTargetHealth: false,
          },
        });
        const seen = await g.verify();
        assert.equal(seen.kind, 'converging', JSON.stringify(seen));
        assert.match(seen.kind === 'converging' ? seen.seen : '', /elsewhere.*neither slot/);
        // The next move undoes the hand edit.
        await g.setWeights(weightsAllOn('green'));
        assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'green')}`]);
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
      },
    );

    it(
      'drain refuses the live slot and holds the old one for TTL + dnsMargin after the move',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh({ ttl: '1s', dnsMargin: '500ms' });
        await g.setWeights(weightsAllOn('blue'));
        await assert.rejects(
          g.drain('blue', { deadline: new Date(Date.now() + 100) }),
          rejectsWith('CUTOVER_E_ROUTER', /still sends it 100%/),
        );
        const beforeMove = Date.now();
        await g.setWeights(weightsAllOn('green'));
        // A drain deadline shorter than the hold does not cut it: clients still resolve to blue.
        await g.drain('blue', { deadline: new Date(Date.now() + 100) });
        const heldUntil = Date.now();
        assert.ok(
          heldUntil - beforeMove >= 1500,
          `drain returned ${heldUntil - beforeMove} ms after the move, before TTL 1000 ms + margin 500 ms`,
        );
        const status = await g.drainStatus('blue');
        assert.equal(status.kind, 'unknown');
        assert.match(status.kind === 'unknown' ? status.reason : '', /TTL plus dnsMargin \(1\.5 s\)/);
        // A restarted control process does not know when the move happened: it holds from now.
        const restarted = guardRouter(
          await createRoute53Router(layout, moto.endpoint, { ttl: '1s', dnsMargin: '500ms' }),
        );
        cleanups.push(() => restarted.close());
        await restarted.open();
        await restarted.prepare({ blue: [], green: [] }, layout.endpoints);
        const drainStart = Date.now();
        await restarted.drain('blue', { deadline: new Date(Date.now() + 100) });
        assert.ok(
          Date.now() - drainStart >= 1500,
          'a restarted router holds the whole TTL + margin from now',
        );
      },
    );

    it('cleanup forgets the idle slot and refuses the live one', { timeout: CASE_TIMEOUT_MS }, async () => {
      const { layout, g } = await fresh();
      await g.setWeights(weightsAllOn('blue'));
      await g.cleanup('green');
      await g.cleanup('green');
      await assert.rejects(g.cleanup('blue'), rejectsWith('CUTOVER_E_SLOT_LIVE'));
      assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'blue')}`]);
      assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    });

    it(
      'a dns-name endpoint without a hosted zone is a CNAME with the TTL; moving back to a load balancer replaces it in one batch',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh({ ttl: '30s' });
        const endpoints = {
          blue: layout.endpoints.blue,
          green: { kind: 'dns-name', id: 'green.example.net' },
        };
        await g.prepare({ blue: [], green: [] }, endpoints);
        await g.setWeights(weightsAllOn('blue'));
        await g.setWeights(weightsAllOn('green'));
        const [cname] = await layout.records();
        assert.equal(cname?.Type, 'CNAME');
        assert.equal(cname?.TTL, 30);
        assert.equal(cname?.ResourceRecords?.[0]?.Value, 'green.example.net');
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
        await startRecording(moto.endpoint);
        await g.setWeights(weightsAllOn('blue'));
        assert.deepEqual(changeBatches(await recordedRoute53Calls(moto.endpoint)), [
          [`DELETE CNAME ${layout.recordName}.`, `UPSERT A ${layout.recordName}`],
        ]);
        assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'blue')}`]);
      },
    );
  });

  describe('mode weighted', () => {
    it(
      'a shift of 10/50/100 writes both weighted records in one batch each, read back',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh({ mode: 'weighted' });
        assert.equal(g.describe().capabilities.weighted, true);
        await g.setWeights(weightsAllOn('blue'));
        const blueDns = dnsNameOf(layout, 'blue');
        const greenDns = dnsNameOf(layout, 'green');
        assert.deepEqual(await weightedRecords(layout), {
          [`${APP}-blue`]: `255 → ${blueDns}`,
          [`${APP}-green`]: `0 → ${greenDns}`,
        });
        const steps: [number, number, number][] = [
          [10, 230, 25],
          [50, 128, 127],
          [100, 0, 255],
        ];
        for (const [green, blueWeight, greenWeight] of steps) {
          await startRecording(moto.endpoint);
          await g.setWeights({ blue: 100 - green, green });
          assert.deepEqual(
            changeBatches(await recordedRoute53Calls(moto.endpoint)),
            [
              [
                `UPSERT A ${layout.recordName} [${APP}-blue ${blueWeight}]`,
                `UPSERT A ${layout.recordName} [${APP}-green ${greenWeight}]`,
              ],
            ],
            `green ${green}%: both records in one batch`,
          );
          assert.deepEqual(await weightedRecords(layout), {
            [`${APP}-blue`]: `${blueWeight} → ${blueDns}`,
            [`${APP}-green`]: `${greenWeight} → ${greenDns}`,
          });
          assert.deepEqual(await g.verify(), { kind: 'observed', weights: { blue: 100 - green, green } });
        }
      },
    );

    it(
      'weights outside 0–255 are refused with a stable code before any call; a hand-set 300 is not taken for a weight',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh({ mode: 'weighted' });
        await g.setWeights(weightsAllOn('blue'));
        await startRecording(moto.endpoint);
        await assert.rejects(
          g.setWeights({ blue: 300, green: -200 }),
          rejectsWith('CUTOVER_E_INVALID_WEIGHTS'),
        );
        // Below the guard the router checks Route 53's range itself.
        const bare = await createRoute53Router(layout, moto.endpoint, { mode: 'weighted' });
        cleanups.push(() => bare.close());
        await bare.open();
        await bare.prepare({ blue: [], green: [] }, layout.endpoints);
        await startRecording(moto.endpoint);
        await assert.rejects(
          bare.setWeights({ blue: 300, green: -200 }),
          rejectsWith('CUTOVER_E_INVALID_WEIGHTS', /0 to 255/),
        );
        assert.deepEqual(await recordedRoute53Calls(moto.endpoint), [], 'no call reached Route 53');
        // moto accepts any weight: one set by hand is reported, not read as a share.
        const blueRecord = (await layout.records()).find((set) => set.SetIdentifier === `${APP}-blue`);
        assert.ok(blueRecord);
        await layout.upsertByHand({ ...blueRecord, Weight: 300, TTL: undefined });
        const seen = await g.verify();
        assert.equal(seen.kind, 'converging', JSON.stringify(seen));
        assert.match(seen.kind === 'converging' ? seen.seen : '', /weight 300, outside Route 53's 0–255/);
      },
    );

    it(
      'cleanup deletes the idle slot’s weighted record only; the live one stays',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const { layout, g } = await fresh({ mode: 'weighted' });
        await g.setWeights({ blue: 50, green: 50 });
        await g.setWeights(weightsAllOn('green'));
        await startRecording(moto.endpoint);
        await g.cleanup('blue');
        assert.deepEqual(changeBatches(await recordedRoute53Calls(moto.endpoint)), [
          [`DELETE A ${layout.recordName}. [${APP}-blue 0]`],
        ]);
        assert.deepEqual(Object.keys(await weightedRecords(layout)), [`${APP}-green`]);
        assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
        await assert.rejects(g.cleanup('green'), rejectsWith('CUTOVER_E_SLOT_LIVE'));
        assert.deepEqual(Object.keys(await weightedRecords(layout)), [`${APP}-green`]);
      },
    );
  });

  it(
    'a change that stays PENDING fails the move at settleTimeout; verify says converging; the abort puts the record back',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const { layout } = await fresh();
      const standIn = await startRoute53StandIn(moto.endpoint, { pendingPolls: Number.POSITIVE_INFINITY });
      cleanups.push(() => standIn.stop());
      const g = guardRouter(
        await createRoute53Router(layout, moto.endpoint, {
          endpoint: standIn.endpoint,
          settleTimeout: '1500ms',
        }),
      );
      cleanups.push(() => g.close());
      await g.open();
      await g.prepare({ blue: [], green: [] }, layout.endpoints);
      await assert.rejects(
        g.setWeights(weightsAllOn('green')),
        rejectsWith('CUTOVER_E_ROUTER', /still PENDING after settleTimeout/),
      );
      assert.ok(
        [...standIn.polls.values()].some((polls) => polls >= 1),
        'GetChange was polled before the deadline',
      );
      const seen = await g.verify();
      assert.equal(seen.kind, 'converging', JSON.stringify(seen));
      assert.match(seen.kind === 'converging' ? seen.seen : '', /PENDING/);
      // The engine's abort asks for blue again, here through an endpoint whose changes sync.
      const aborting = guardRouter(await createRoute53Router(layout, moto.endpoint));
      cleanups.push(() => aborting.close());
      await aborting.open();
      await aborting.prepare({ blue: [], green: [] }, layout.endpoints);
      await aborting.setWeights(weightsAllOn('blue'));
      assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'blue')}`]);
      assert.deepEqual(await aborting.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  it('a change that syncs after a few polls completes the move', { timeout: CASE_TIMEOUT_MS }, async () => {
    const { layout } = await fresh();
    const standIn = await startRoute53StandIn(moto.endpoint, { pendingPolls: 2 });
    cleanups.push(() => standIn.stop());
    const router = await createRoute53Router(layout, moto.endpoint, { endpoint: standIn.endpoint });
    const g = guardRouter(router);
    cleanups.push(() => g.close());
    await g.open();
    await g.prepare({ blue: [], green: [] }, layout.endpoints);
    await g.setWeights(weightsAllOn('green'));
    assert.deepEqual([...standIn.polls.values()], [3], 'INSYNC on the third GetChange');
    assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('green') });
  });

  it(
    'throttling is retried with backoff within maxAttempts, and fails with CUTOVER_E_ROUTER past it',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const { layout } = await fresh();
      const patient = await startRoute53StandIn(moto.endpoint, { pendingPolls: 0, throttled: 2 });
      cleanups.push(() => patient.stop());
      const retrying = guardRouter(
        await createRoute53Router(layout, moto.endpoint, { endpoint: patient.endpoint, maxAttempts: 3 }),
      );
      cleanups.push(() => retrying.close());
      await retrying.open();
      assert.equal(
        patient.throttledSoFar(),
        2,
        'the first two attempts were throttled, the third went through',
      );
      await retrying.prepare({ blue: [], green: [] }, layout.endpoints);
      await retrying.setWeights(weightsAllOn('green'));
      assert.deepEqual(await aliasTarget(layout), [`A ${dnsNameOf(layout, 'green')}`]);
      const impatient = await startRoute53StandIn(moto.endpoint, { pendingPolls: 0, throttled: 1 });
      cleanups.push(() => impatient.stop());
      const once = guardRouter(
        await createRoute53Router(layout, moto.endpoint, { endpoint: impatient.endpoint }),
      );
      await assert.rejects(once.open(), rejectsWith('CUTOVER_E_ROUTER', /Throttling/));
      await once.close();
    },
  );

  it(
    'open refuses a record outside the zone and a zone that does not exist',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const { layout } = await fresh();
      const outside = guardRouter(
        await createRoute53Router(layout, moto.endpoint, { recordName: 'www.other.org' }),
      );
      await assert.rejects(outside.open(), rejectsWith('CUTOVER_E_ROUTER', /not in hosted zone/));
      await outside.close();
      const missing = guardRouter(
        await createRoute53Router({ ...layout, zoneId: 'ZNOSUCHZONE' }, moto.endpoint),
      );
      await assert.rejects(missing.open(), rejectsWith('CUTOVER_E_ROUTER', /GetHostedZone/));
      await missing.close();
    },
  );

  it(
    'prepare refuses host:port instances, malformed endpoints, other kinds and mixed types in weighted mode',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const { layout, g } = await fresh({ mode: 'weighted' });
      await g.setWeights(weightsAllOn('blue'));
      const instance = { id: 'i-1', host: '127.0.0.1', port: 8080 };
      const blue = layout.endpoints.blue;
      const cases: [string, Parameters<Router['prepare']>, ErrorCode][] = [
        ['host:port', [{ blue: [], green: [instance] }, { blue }], 'CUTOVER_E_ROUTER'],
        [
          'no dnsName',
          [
            { blue: [], green: [] },
            {
              blue,
              green: { ...blue, details: { type: 'classic', canonicalHostedZoneId: 'Z35SXDOTRQ7X7K' } },
            },
          ],
          'CUTOVER_E_ROUTER',
        ],
        [
          'bad zone id',
          [
            { blue: [], green: [] },
            { blue, green: { ...blue, details: { ...blue.details, canonicalHostedZoneId: '../../etc' } } },
          ],
          'CUTOVER_E_ROUTER',
        ],
        [
          'bad type',
          [
            { blue: [], green: [] },
            { blue, green: { ...blue, details: { ...blue.details, type: 'network' } } },
          ],
          'CUTOVER_E_ROUTER',
        ],
        [
          'hostile dns name',
          [
            { blue: [], green: [] },
            { blue, green: { kind: 'dns-name', id: 'a'.repeat(300) } },
          ],
          'CUTOVER_E_ROUTER',
        ],
        [
          'a group',
          [
            { blue: [], green: [] },
            { blue, green: { kind: 'aws-asg', id: 'web-green' } },
          ],
          'CUTOVER_E_ENDPOINT_KIND',
        ],
        [
          'CNAME beside alias',
          [
            { blue: [], green: [] },
            { blue, green: { kind: 'dns-name', id: 'green.example.net' } },
          ],
          'CUTOVER_E_ROUTER',
        ],
      ];
      for (const [what, args, code] of cases) {
        await assert.rejects(g.prepare(...args), (error: unknown) => {
          assert.ok(isCutoverError(error, code), `${what}: expected ${code}, got ${String(error)}`);
          return true;
        });
      }
      assert.deepEqual(await g.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  describe('a hostile Route 53 endpoint gives CUTOVER_E_ROUTER within callTimeout', () => {
    const behaviours: Record<string, (socket: net.Socket) => void> = {
      'accepts and never answers': () => {},
      'resets the connection': (socket) => socket.resetAndDestroy(),
      'answers a body that is not XML': (socket) =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 9\r\n\r\n<<<&&&>>>'),
      'answers XML without a zone': (socket) =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 7\r\n\r\n<a></a>'),
      'answers a malformed status line': (socket) => socket.end('HTTP/9 banana\r\n\r\n'),
      'drips a huge body slowly': (socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 100000000\r\n\r\n<a>');
        const drip = setInterval(() => socket.write('x'.repeat(1024)), 20);
        socket.on('close', () => clearInterval(drip));
        socket.on('error', () => clearInterval(drip));
      },
    };
    for (const [name, behaviour] of Object.entries(behaviours)) {
      it(`an endpoint that ${name}`, { timeout: CASE_TIMEOUT_MS }, async () => {
        const sockets = new Set<net.Socket>();
        const server = net.createServer((socket) => {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.once('data', () => behaviour(socket));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
          const router = guardRouter(
            await createRoute53Router({ zoneId: 'Z1', recordName: 'www.example.com' }, endpoint, {
              callTimeout: '400ms',
            }),
          );
          await assert.rejects(router.open(), rejectsWith('CUTOVER_E_ROUTER'));
          await router.close();
        } finally {
          for (const socket of sockets) socket.destroy();
          await new Promise((resolve) => server.close(resolve));
        }
      });
    }
  });

  it(
    'the IAM policy in docs/aws-routers.md allows exactly the calls of a deploy, a shift, a rollback, a drain and a cleanup',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const { layout } = await fresh();
      // Through a stand-in whose changes are PENDING once, so GetChange is made as on real AWS.
      const standIn = await startRoute53StandIn(moto.endpoint, { pendingPolls: 1 });
      cleanups.push(() => standIn.stop());
      await startRecording(moto.endpoint);
      const router = guardRouter(
        await createRoute53Router(layout, moto.endpoint, {
          endpoint: standIn.endpoint,
          mode: 'weighted',
          ttl: '1s',
          dnsMargin: '0s',
        }),
      );
      cleanups.push(() => router.close());
      await router.open();
      await router.prepare({ blue: [], green: [] }, layout.endpoints);
      await router.setWeights(weightsAllOn('blue'));
      await router.setWeights({ blue: 50, green: 50 });
      await router.setWeights(weightsAllOn('green'));
      await router.verify();
      await router.drain('blue', { deadline: new Date(Date.now() + 5000) });
      await router.setWeights(weightsAllOn('blue'));
      await router.cleanup('green');
      const made = new Set((await recordedRoute53Calls(moto.endpoint)).map((call) => call.action));
      const text = await readFile(DOC, 'utf8');
      const iam = text.slice(text.indexOf('## Least-privilege IAM'));
      const block = /```json\n([\s\S]*?)```/.exec(iam.slice(iam.indexOf('`route53`:')))?.[1];
      assert.ok(
        iam.includes('`route53`:') && block,
        'docs/aws-routers.md has a JSON policy after "`route53`:"',
      );
      const policy = JSON.parse(block) as { Statement: { Action: string[] }[] };
      const allowed = new Set(policy.Statement.flatMap((statement) => statement.Action));
      assert.deepEqual([...made].filter((action) => !allowed.has(action)).sort(), [], 'made but not allowed');
      assert.deepEqual(
        [...allowed].filter((action) => !made.has(action)).sort(),
        [],
        'allowed but never made',
      );
    },
  );
});
