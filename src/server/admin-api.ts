import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { DeploymentEngine } from '../engine/deployment-engine.js';
import { CutoverError, asCutoverError } from '../shared/errors.js';
import type { DeploymentEvent } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { isSlot } from '../shared/slot.js';
import type { Platform } from '../shared/platform.js';
import type { Store } from '../shared/store.js';
import { isAuthorized } from './admin-token.js';
import { readJsonBody, sendError, sendJson } from './http-json.js';
import { logsFollowRoute } from './logs-follow-route.js';

export interface AdminApiDeps {
  readonly app: string;
  readonly token: string;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly platform: Platform;
  readonly metrics: Registry;
  readonly logger: Logger;
}

const deployBody = z
  .object({ release: z.string().min(1), requestedBy: z.string().min(1).max(200).optional() })
  .strict();
const actionBody = z
  .object({ deployment: z.string().min(1).optional(), requestedBy: z.string().min(1).max(200).optional() })
  .strict();

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  params: Record<string, string>,
  url: URL,
) => Promise<void>;
interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/**
 * The admin API: HTTP + JSON, every route behind the bearer token (the SSE stream and
 * /metrics included). Bodies are validated; a malformed one is a 400 that says why.
 */
export function createAdminApi(deps: AdminApiDeps): RequestListener {
  const { engine, store, app } = deps;
  const actor = (given: string | undefined): string => `api:${given ?? 'unknown'}`;

  const action =
    (run: (requestedBy: string, id: string | undefined) => Promise<unknown>): Handler =>
    async (request, response, params) => {
      const body = parse(actionBody, await readJsonBody(request));
      const result = await run(actor(body.requestedBy), params.id ?? body.deployment);
      sendJson(response, 200, { deployment: result });
    };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/v1\/status$/,
      handler: async (_request, response) => sendJson(response, 200, await engine.status()),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/deployments$/,
      handler: async (_request, response, _params, url) => {
        const limit = Number(url.searchParams.get('limit') ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'limit must be a whole number from 1 to 1000');
        }
        sendJson(response, 200, { deployments: await store.listDeployments(app, limit) });
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/deployments$/,
      handler: async (request, response) => {
        const body = parse(deployBody, await readJsonBody(request));
        const { deployment } = await engine.deploy(body.release, actor(body.requestedBy));
        sendJson(response, 202, { deployment });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/deployments\/(?<id>[\w.-]+)$/,
      handler: async (_request, response, params) => {
        const deployment = await store.getDeployment(params.id!);
        if (!deployment || deployment.app !== app)
          throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${params.id} not found`);
        sendJson(response, 200, { deployment, journal: await store.journal(deployment.id) });
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/(?:deployments\/(?<id>[\w.-]+)\/)?promote$/,
      handler: action((by, id) => engine.promote(by, id)),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/(?:deployments\/(?<id>[\w.-]+)\/)?abort$/,
      handler: action((by, id) => engine.abort(by, id)),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/(?:deployments\/(?<id>[\w.-]+)\/)?rollback$/,
      handler: action((by, id) => engine.rollback(by, id)),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/logs$/,
      handler: async (_request, response, _params, url) => {
        const slot = url.searchParams.get('slot');
        const tail = Number(url.searchParams.get('tail') ?? 100);
        if (slot !== null && !isSlot(slot))
          throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'slot must be blue or green');
        if (!Number.isInteger(tail) || tail < 1 || tail > 10_000)
          throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'tail must be a whole number from 1 to 10000');
        const slots = slot ? [slot] : (['blue', 'green'] as const);
        const lines = (await Promise.all(slots.map((name) => deps.platform.logs(name, { tail })))).flat();
        sendJson(response, 200, { lines });
      },
    },
    logsFollowRoute(deps.platform),
    {
      method: 'GET',
      pattern: /^\/v1\/audit$/,
      handler: async (_request, response) => {
        sendJson(response, 200, { audit: await store.auditLog(app, 200) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/events$/,
      handler: (request, response, _params, url) => {
        streamEvents(request, response, engine, url.searchParams.get('deployment') ?? undefined);
        return Promise.resolve();
      },
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      handler: async (_request, response) => {
        const body = await deps.metrics.metrics();
        response.writeHead(200, { 'content-type': deps.metrics.contentType });
        response.end(body);
      },
    },
  ];

  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const handle = async (): Promise<void> => {
      if (!isAuthorized(request.headers.authorization, deps.token)) {
        response.setHeader('www-authenticate', 'Bearer realm="cutover"');
        throw new CutoverError(
          'CUTOVER_E_UNAUTHORIZED',
          'missing or wrong bearer token (see the admin-token file in the state directory)',
        );
      }
      const matching = routes.filter((route) => route.pattern.test(url.pathname));
      if (matching.length === 0)
        throw new CutoverError('CUTOVER_E_NOT_FOUND', `no such endpoint: ${url.pathname}`);
      const route = matching.find((candidate) => candidate.method === request.method);
      if (!route) {
        response.setHeader('allow', matching.map((candidate) => candidate.method).join(', '));
        sendJson(response, 405, {
          error: {
            code: 'CUTOVER_E_BAD_REQUEST',
            message: `${request.method} is not allowed here`,
            details: {},
          },
        });
        return;
      }
      const params = route.pattern.exec(url.pathname)?.groups ?? {};
      await route.handler(request, response, { ...params }, url);
    };
    handle().catch((error: unknown) => {
      const failure = asCutoverError(error);
      if (failure.code === 'CUTOVER_E_INTERNAL')
        deps.logger.error('admin.error', { path: url.pathname, error: failure.message });
      if (response.headersSent) response.destroy();
      else sendError(response, failure);
    });
  };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new CutoverError('CUTOVER_E_BAD_REQUEST', `${where}${issue.message}`, {
    details: { issues: result.error.issues },
  });
}

/** Server-Sent Events: past events of the deployment first, then live ones, until the client goes. */
function streamEvents(
  request: IncomingMessage,
  response: ServerResponse,
  engine: DeploymentEngine,
  deploymentId: string | undefined,
): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (event: DeploymentEvent): void => {
    if (deploymentId && event.deploymentId !== deploymentId) return;
    response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  for (const event of engine.events.history(deploymentId)) send(event);
  const unsubscribe = engine.events.subscribe(send);
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
  request.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}
