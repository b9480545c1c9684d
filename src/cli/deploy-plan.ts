/**
 * `cutover deploy <release> --plan`: the calls the deploy would make, phase by phase, asked of
 * the platform (Platform.planProvision / planStop) and the router (Router.planMove / planDrain),
 * without making any call that changes something. It reads what a deploy reads first (the
 * journal's routing and unfinished deployments, the release's image) and fails as the deploy
 * would, with the same code and message, when the deploy could not start.
 */
import type { CutoverConfig } from '../config/schema.js';
import { shiftSteps } from '../engine/deployment-run.js';
import { checkName } from '../engine/health-gate.js';
import { assertReleaseName } from '../engine/release-name.js';
import { createPlatform } from '../platforms/registry.js';
import { createRouter } from '../routers/registry.js';
import { openAppStore } from '../server/open-app.js';
import { loadOrCreatePreviewToken } from '../server/preview-token.js';
import { refuseWhileLocked } from './in-process-engine.js';
import { formatDuration } from '../shared/duration.js';
import { CutoverError } from '../shared/errors.js';
import { Logger, jsonLineSink } from '../shared/logger.js';
import type { DeployPlan, PlanPhase, PlannedStep } from '../shared/plan.js';
import type { Platform } from '../shared/platform.js';
import type { Router } from '../shared/router.js';
import { otherSlot, weightsWith, type Slot, type SlotEndpoints } from '../shared/slot.js';
import type { Store } from '../shared/store.js';

type PlanningPlatform = Platform & Required<Pick<Platform, 'planProvision' | 'planStop'>>;
type PlanningRouter = Router & Required<Pick<Router, 'planMove' | 'planDrain'>>;

export async function planDeploy(config: CutoverConfig, release: string): Promise<DeployPlan> {
  assertReleaseName(release);
  const logger = new Logger(jsonLineSink(process.stderr), 'warn').child({ app: config.app, mode: 'plan' });
  const platform = await createPlatform(config, logger);
  let router: Router | undefined;
  let store: Store | undefined;
  try {
    const created = await createRouter(config, {
      logger,
      previewToken: loadOrCreatePreviewToken(config.stateDirPath),
    });
    router = created.router;
    const planners = plannersOf(platform, router, config);
    store = openAppStore(config);
    // A deploy now would stop at the lock, before anything else.
    await refuseWhileLocked(store, config.app);
    return await planWith(config, release, planners.platform, planners.router, store);
  } finally {
    await router?.close();
    await platform.close();
    await store?.close();
  }
}

/** Names what cannot plan, so nobody mistakes a partial plan for the deploy's calls. */
function plannersOf(
  platform: Platform,
  router: Router,
  config: CutoverConfig,
): { platform: PlanningPlatform; router: PlanningRouter } {
  const missing: string[] = [];
  if (
    platform.planProvision === undefined ||
    platform.planStop === undefined ||
    (platform.coldStandby !== undefined && platform.coldStandby.planPark === undefined)
  ) {
    const mode = 'mode' in config.platform ? ` (mode ${String(config.platform.mode)})` : '';
    missing.push(`platform ${platform.describe().kind}${mode}`);
  }
  if (router.planMove === undefined || router.planDrain === undefined)
    missing.push(`router ${router.describe().kind}`);
  if (missing.length === 0) {
    return { platform: platform as PlanningPlatform, router: router as PlanningRouter };
  }
  throw new CutoverError(
    'CUTOVER_E_USAGE',
    `--plan cannot list the calls of this deploy: ${missing.join(' and ')} cannot plan ${missing.length > 1 ? 'their' : 'its'} calls (platform aws-asg in modes replica-group, replace-instances and replica-stack, and the routers aws-elb, aws-target-group, aws-alb and route53 can); run \`cutover deploy\` without --plan`,
    { details: { cannotPlan: missing } },
  );
}

async function planWith(
  config: CutoverConfig,
  release: string,
  platform: PlanningPlatform,
  router: PlanningRouter,
  store: Store,
): Promise<DeployPlan> {
  // What DeploymentEngine.deploy() checks before it takes the lease, in the same order.
  await platform.checkRelease?.(release);
  const unfinished = await store.unfinishedDeployments(config.app);
  const busy = unfinished.find((deployment) => deployment.phase !== 'standby');
  if (busy !== undefined) {
    throw new CutoverError(
      'CUTOVER_E_LOCKED',
      `deployment ${busy.id} of ${config.app} is still ${busy.phase}`,
      { details: { deployment: busy.id } },
    );
  }
  await router.open();
  const phases: PlanPhase[] = [];
  const routing = await store.getRouting(config.app);
  const endpoints: { -readonly [S in Slot]?: SlotEndpoints[S] } = { ...(routing?.endpoints ?? {}) };
  // A deploy first retires the deployment in standby: its old slot stops and leaves the router.
  for (const standby of unfinished) {
    if (standby.fromSlot === null) continue;
    phases.push({
      phase: 'retire-standby',
      title: `retire ${standby.fromSlot} (${standby.fromRelease ?? 'previous release'}), kept warm by deployment ${standby.id}`,
      later: false,
      steps: [
        ...(await platform.planStop(standby.fromSlot, { graceMs: platform.describe().stopGraceMs })),
        ...((await router.planCleanup?.(standby.fromSlot)) ?? []),
      ],
    });
    delete endpoints[standby.fromSlot];
  }
  const fromSlot = routing?.liveSlot ?? null;
  const toSlot: Slot = fromSlot ? otherSlot(fromSlot) : 'blue';
  const provision = await platform.planProvision(toSlot, release);
  phases.push({
    phase: 'provision',
    title: `provision ${toSlot} with ${release}`,
    later: false,
    steps: [...hookNote('beforeProvision', config.hooks.beforeProvision), ...provision.steps],
  });
  if (provision.endpoint !== undefined) endpoints[toSlot] = provision.endpoint;
  phases.push({
    phase: 'verify',
    title: `verify ${toSlot}`,
    later: false,
    steps: [
      {
        kind: 'wait',
        until: `every instance of ${toSlot} passes its ${checkName(config.health)} check ${config.health.healthyThreshold} time(s) in a row`,
        deadlineMs: config.health.deadline,
      },
      ...hookNote('smoke', config.hooks.smoke),
      ...(config.strategy.promotion === 'manual'
        ? [{ kind: 'note' as const, text: 'waits in awaiting-promotion for `cutover promote`' }]
        : []),
    ],
  });
  const steps = fromSlot === null ? [{ weight: 100 }] : shiftSteps(config.strategy);
  for (const step of steps) {
    const weights = weightsWith(toSlot, step.weight);
    const moveSteps = await router.planMove({ from: fromSlot, to: toSlot, weights, endpoints });
    const after: PlannedStep[] = [];
    if (step.weight < 100 && step.gate === 'manual')
      after.push({ kind: 'note', text: 'waits for `cutover promote` before the next step' });
    if (step.weight < 100 && step.pause !== undefined)
      after.push({
        kind: 'wait',
        until: `the pause after ${step.weight}%, health checks running`,
        deadlineMs: step.pause,
      });
    phases.push({
      phase: steps.length === 1 ? 'switch' : 'shift',
      title: `move traffic: ${toSlot} ${weights[toSlot]}%, ${otherSlot(toSlot)} ${weights[otherSlot(toSlot)]}%`,
      later: false,
      steps: [...moveSteps, ...after],
    });
  }
  if (fromSlot !== null) {
    const drainSteps = await router.planDrain(fromSlot, { deadlineMs: config.drain.timeout, endpoints });
    if (!router.describe().capabilities.drainCounts) {
      drainSteps.push({
        kind: 'wait',
        until: `the drain deadline (router ${router.describe().kind} cannot count requests in flight)`,
        deadlineMs: config.drain.timeout,
      });
    }
    // A platform with a cold standby parks the drained slot (capacity 0) before the standby.
    drainSteps.push(...((await platform.coldStandby?.planPark?.(fromSlot)) ?? []));
    phases.push({ phase: 'drain', title: `drain ${fromSlot}`, later: false, steps: drainSteps });
    phases.push({
      phase: 'retire',
      title: `after the rollback window (${formatDuration(config.rollbackWindow)}) or \`cutover retire\`: stop ${fromSlot}`,
      later: true,
      steps: [
        ...(await platform.planStop(fromSlot, { graceMs: platform.describe().stopGraceMs })),
        ...((await router.planCleanup?.(fromSlot)) ?? []),
      ],
    });
  }
  return {
    app: config.app,
    release,
    platform: platform.describe().kind,
    router: router.describe().kind,
    fromSlot,
    toSlot,
    phases,
  };
}

function hookNote(name: string, hook: unknown): PlannedStep[] {
  return hook === undefined ? [] : [{ kind: 'note', text: `runs the ${name} hook` }];
}
