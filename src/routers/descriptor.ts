/**
 * What each router folder exports from its index.ts: its kind, its config schema, what it can
 * do, and its factory. The registry (registry.ts), the router part of the config schema and
 * the JSON Schema are assembled from the list in descriptors.ts, so adding a router is adding a
 * folder and one line there.
 */
import type { ShadowReadings } from '../proxy/shadow/shadow-sample.js';
import type { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import type { ProxyMetrics } from '../proxy/metrics.js';
import type { Router, RouterCapabilities } from '../shared/router.js';
import type { SlotTrafficSource } from '../shared/slot-traffic.js';

/** What a router factory gets besides its own `router:` section: never the whole app config. */
export interface RouterDeps {
  readonly logger: Logger;
  /**
   * The app's preview token (server/preview-token.ts, never the admin token): every router lets
   * the preview header reach the idle slot only with exactly this value.
   */
  readonly previewToken: string;
  /** Relative paths in the router's config resolve against this (the cutover.yml directory). */
  readonly baseDir: string;
  /** cutover's state directory for this app. */
  readonly stateDir: string;
  /**
   * This control plane succeeds a running one (`cutover server --upgrade`): a router whose data
   * plane is cutover's own (builtin) starts it anew from this code and retires the old one.
   */
  readonly upgrade?: boolean;
  /** The app's name (config `app`), for names a router writes that must be unique per app. */
  readonly app?: string;
}

/** A router plus what the control server may ask of it beyond the Router interface. */
export interface CreatedRouter {
  readonly router: Router;
  /**
   * Open the router without accepting traffic yet (builtin: no listener bound); router.open()
   * then starts accepting. Lets the control server restore the routing table first.
   */
  openWithoutTraffic?(): Promise<void>;
  /** Where live traffic enters, when cutover owns the listener (builtin). */
  trafficUrl?(): string;
  previewUrl?(): string | undefined;
  /**
   * Let go of the data plane and leave it serving, for a successor control plane to adopt
   * (SIGUSR2 / `cutover server --upgrade`); close() would stop it. Builtin only.
   */
  leaveRunning?(): Promise<void>;
  /** Per-slot proxy counters, when the data plane is cutover's own proxy (builtin). */
  readonly proxyMetrics?: ProxyMetrics;
  /** Brings proxyMetrics up to date (the builtin proxy's workers report now). */
  readonly refreshProxyMetrics?: () => Promise<void>;
  /** Per-slot traffic counters a daemon router reads from its daemon (HAProxy's `show stat`). */
  readonly slotTraffic?: SlotTrafficSource;
  /** Shadow comparison counts and differing samples (builtin, with `mirror.compare`). */
  readonly shadowReadings?: ShadowReadings;
}

export interface RouterDescriptor<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** The zod schema of the `router:` section when `kind` is this one. */
  readonly configSchema: S;
  /** What the router can do, known before it is opened (config validation reads it). */
  readonly capabilities: RouterCapabilities;
  /**
   * What this router can do with this config, when its mode changes it (route53's weighted
   * mode adds weighted steps); config validation asks it. Default: `capabilities`.
   */
  configuredCapabilities?(config: z.output<S>): RouterCapabilities;
  /** Why the router lacks a capability, for error messages that say what to do instead. */
  readonly limits?: { readonly [C in keyof RouterCapabilities]?: string };
  /**
   * Loads the implementation (a dynamic import) and makes the router: this file, the schema and
   * the capabilities stay free of SDKs, so a CLI verb that only reads the config starts fast.
   */
  create(config: z.output<S>, deps: RouterDeps): Promise<CreatedRouter>;
}

/** Ties a descriptor's factory to its own schema's output type. */
export function defineRouter<K extends string, S extends z.ZodType>(
  descriptor: RouterDescriptor<K, S>,
): RouterDescriptor<K, S> {
  return descriptor;
}
