import type { CutoverConfig } from '../config/schema.js';
import type { SlotTrafficSource } from '../shared/slot-traffic.js';
import type {
  CreatedRouter as CreatedByDescriptor,
  RouterDeps as DescriptorDeps,
  RouterDescriptor,
} from './descriptor.js';
import { ROUTER_DESCRIPTORS, type RouterKind } from './descriptors.js';
import { guardRouter } from './guarded-router.js';

/** A router plus what the control server may ask of it beyond the Router interface. */
export interface CreatedRouter extends CreatedByDescriptor {
  /**
   * Per-slot traffic counters, what the builtin analysis reads: the builtin proxy's (summed over
   * its workers), or a daemon router's (HAProxy); absent when the router keeps none.
   */
  readonly slotTraffic?: SlotTrafficSource;
}

export type RouterDeps = Pick<DescriptorDeps, 'logger' | 'previewToken' | 'upgrade'>;

/** One descriptor per router kind, from its folder; a kind in the schema without one fails to compile. */
const ROUTERS = ROUTER_DESCRIPTORS satisfies { [K in RouterKind]: RouterDescriptor<K> };

/**
 * The router the config asks for, from its folder's descriptor, behind the guard layer
 * (guarded-router.ts): every router enforces the same invariants with the same codes. Async: the
 * descriptor imports the implementation only now, so a CLI verb that never creates a router does
 * not pay for loading the SDKs of all of them (startup time of the CLI).
 */
export async function createRouter(config: CutoverConfig, deps: RouterDeps): Promise<CreatedRouter> {
  const descriptor = ROUTERS[config.router.kind] as RouterDescriptor;
  const created = await descriptor.create(config.router, {
    logger: deps.logger.child({ router: config.router.kind }),
    previewToken: deps.previewToken,
    baseDir: config.baseDir,
    stateDir: config.stateDirPath,
    upgrade: deps.upgrade,
    app: config.app,
  });
  const { proxyMetrics } = created;
  return {
    ...created,
    router: guardRouter(created.router),
    ...(proxyMetrics === undefined
      ? {}
      : {
          slotTraffic: {
            name: 'builtin proxy',
            read: async () => {
              await created.refreshProxyMetrics?.();
              return proxyMetrics.snapshot();
            },
          },
        }),
  };
}
