/**
 * Messages on the node IPC channel between the control plane and a worker it started. This
 * channel exists only for what the control socket cannot carry: the worker's settings (the
 * preview token is a secret: never argv or environment) and the listening sockets themselves.
 */
import type { AddressInfo } from 'node:net';
import type { BuiltinRouterConfig } from '../config.js';
import type { ListenerRole } from '../../../proxy/proxy-server.js';

export type ToWorker =
  | { readonly type: 'init'; readonly config: BuiltinRouterConfig; readonly previewToken: string }
  /** Bind a new listening socket and send its handle back (the first worker of a pool). */
  | { readonly type: 'bind'; readonly role: ListenerRole; readonly host: string; readonly port: number }
  /** Accept on the handle that comes with this message. */
  | { readonly type: 'listen'; readonly role: ListenerRole };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly code: string; readonly message: string }
  /** Comes with the bound socket's handle. */
  | { readonly type: 'bound'; readonly role: ListenerRole; readonly address: AddressInfo }
  | {
      readonly type: 'bind-failed';
      readonly role: ListenerRole;
      readonly errno: string;
      readonly message: string;
    }
  | { readonly type: 'listening'; readonly role: ListenerRole }
  | { readonly type: 'listen-failed'; readonly role: ListenerRole; readonly message: string };
