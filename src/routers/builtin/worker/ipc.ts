/**
 * Messages on the node IPC channel between a worker and the process that started it (its
 * control plane, or a running worker asked to start a sibling). The channel carries only what
 * the control socket cannot: the listening sockets themselves.
 */
import type { AddressInfo } from 'node:net';
import type { ListenerRole } from '../../../proxy/proxy-server.js';

export type ToWorker =
  /** Bind a new listening socket and send its handle back (the first worker of a new pool). */
  | { readonly type: 'bind'; readonly role: ListenerRole; readonly host: string; readonly port: number }
  /** Hold the listening socket that comes with this message (accept on it when told to). */
  | { readonly type: 'socket'; readonly role: ListenerRole };

export type FromWorker =
  /** The control socket is open. */
  | { readonly type: 'ready' }
  /** Comes with the bound socket's handle. */
  | { readonly type: 'bound'; readonly role: ListenerRole; readonly address: AddressInfo }
  | {
      readonly type: 'bind-failed';
      readonly role: ListenerRole;
      readonly errno: string;
      readonly message: string;
    }
  | { readonly type: 'socket-held'; readonly role: ListenerRole };
