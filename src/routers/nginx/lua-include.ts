/**
 * The include file of the nginx router's lua mode. Unlike the reload mode's file it does not
 * change with the traffic: it is written once at open(), and from then on the routing table
 * lives in a `lua_shared_dict` that every worker reads on each request. It holds:
 *
 * - the shared dict, and `init_by_lua` code that defines the routing module, reads the control
 *   token (in the master, before workers fork, so the 0600 file need not be readable by nginx's
 *   worker user) and, after a start, loads the last applied table from the state file;
 * - the upstream `<prefix>_live`, whose peer `balancer_by_lua` picks per request (weighted
 *   slot, then round robin inside the slot, or the preview slot for the preview header + token),
 *   with nginx's `keepalive` pool behind it;
 * - `$<prefix>_upstream` (the same variable the reload mode defines), so the proxying location
 *   is the same in both modes;
 * - a `server` on a loopback address or unix socket with one location, `/cutover/state`:
 *   GET answers the table as JSON, PUT replaces it; both need `Authorization: Bearer <token>`.
 *
 * In-flight requests per slot are counted in the dict: +1 when the balancer first picks a slot,
 * -1 in `log_by_lua` when the request is over.
 */
import { renderLuaModule } from './lua-module.js';

export interface LuaIncludeNames {
  /** Upstream prefix: `<prefix>_live`, `$<prefix>_upstream`, dict `<prefix>_cutover`. */
  readonly prefix: string;
  readonly previewHeader: string;
  readonly keepalive: number;
  /** `127.0.0.1:PORT`, `[::1]:PORT` or `unix:/path`. */
  readonly controlListen: string;
  readonly tokenFile: string;
  readonly stateFile: string;
}

/** The one location of the control server. */
export const CONTROL_PATH = '/cutover/state';

export function luaModuleName(prefix: string): string {
  return `cutover_${prefix}`;
}

export function renderLuaInclude(names: LuaIncludeNames): string {
  const module = luaModuleName(names.prefix);
  const call = (fn: string) => `require("${module}").${fn}()`;
  const keepalive = names.keepalive > 0 ? [`    keepalive ${names.keepalive};`] : [];
  return [
    '# Managed by cutover (nginx router, lua mode). Traffic changes do not rewrite this file:',
    `# they go to ${CONTROL_PATH} on ${names.controlListen}. Edits by hand are undone.`,
    `lua_shared_dict ${dictName(names.prefix)} 1m;`,
    'init_by_lua_block {',
    indent(renderLuaModule({ ...names, module, dict: dictName(names.prefix) }), 4),
    '}',
    `init_worker_by_lua_block { ${call('init_worker')} }`,
    `log_by_lua_block { ${call('log')} }`,
    `upstream ${names.prefix}_live {`,
    '    server 0.0.0.1; # never used: balancer_by_lua picks every peer',
    `    balancer_by_lua_block { ${call('balance')} }`,
    // After balancer_by_lua: the keepalive module wraps whatever balancer the upstream has.
    ...keepalive,
    '}',
    `map $host $${names.prefix}_upstream {`,
    `    default ${names.prefix}_live;`,
    '}',
    'server {',
    `    listen ${names.controlListen};`,
    '    access_log off;',
    `    location = ${CONTROL_PATH} {`,
    '        allow 127.0.0.0/8;',
    '        allow ::1;',
    '        allow unix:;',
    '        deny all;',
    // The whole body in memory, so the handler never has to read a temp file.
    '        client_max_body_size 1m;',
    '        client_body_buffer_size 1m;',
    `        content_by_lua_block { ${call('control')} }`,
    '    }',
    '    location / {',
    '        return 404;',
    '    }',
    '}',
    '',
  ].join('\n');
}

export function dictName(prefix: string): string {
  return `${prefix}_cutover`;
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${pad}${line}`))
    .join('\n');
}
