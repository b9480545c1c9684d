/**
 * The dashboard, mounted in front of the admin API on the admin listener: `/` (the page),
 * `/login`, `/logout`, `/assets/*`, `/dashboard/stream`; a request that carries a session
 * cookie instead of the bearer token reaches the admin API's own routes through
 * admin-forward.ts. Everything else goes to the admin API untouched. Every response gets the
 * security headers.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CutoverConfig } from '../config/schema.js';
import type { Registry } from 'prom-client';
import type { DeploymentEngine } from '../engine/deployment-engine.js';
import { sendJson } from '../server/http-json.js';
import { asCutoverError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Platform } from '../shared/platform.js';
import type { Store } from '../shared/store.js';
import { forwardToAdminApi, sessionMayUse } from './admin-forward.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';
import { streamDashboard, type StreamSources } from './dashboard-stream.js';
import { readFormBody } from './form-body.js';
import { indexPage } from './index-page.js';
import { loginPage } from './login-page.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordFileWatcher, passwordMatches, validUserName } from './password-file.js';
import { sameOrigin, type ListenerIdentity } from './request-origin.js';
import { setSecurityHeaders } from './security-headers.js';
import { csrfTokenMatches, SESSION_LIFETIME_MS, SessionTable, type Session } from './sessions.js';
import { SlotMetricsSampler } from './slot-metrics.js';
import { loadStaticAssets, sendAsset } from './static-assets.js';

export interface DashboardDeps {
  readonly config: Pick<CutoverConfig, 'app' | 'stateDirPath' | 'admin'>;
  readonly token: string;
  readonly engine: DeploymentEngine;
  readonly store: Store;
  readonly platform: Platform;
  readonly metrics: Registry;
  readonly logger: Logger;
  /** The admin listener: the Origin check compares its port, known once it listens. */
  readonly server: Server;
}

export const CSRF_HEADER = 'x-csrf-token';

export function mountDashboard(adminApi: RequestListener, deps: DashboardDeps): RequestListener {
  const { app, stateDirPath: stateDir } = deps.config;
  const sessions = new SessionTable();
  const passwords = new PasswordFileWatcher(stateDir);
  const throttle = new LoginThrottle();
  const assets = loadStaticAssets();
  const logger = deps.logger.child({ part: 'dashboard' });
  const sources: StreamSources = {
    app,
    engine: deps.engine,
    store: deps.store,
    platform: deps.platform,
    sampler: new SlotMetricsSampler(deps.metrics),
    logger,
  };
  const listener = (): ListenerIdentity => ({
    port: (deps.server.address() as AddressInfo).port,
    tls: deps.config.admin.tls !== undefined,
    allowRemote: deps.config.admin.allowRemote,
  });

  /** The request's live session: not expired, and for a password login, that password still stands. */
  const sessionOf = (request: IncomingMessage): Session | undefined => {
    const session = sessions.find(readCookie(request, SESSION_COOKIE));
    if (session?.via.kind === 'password' && passwords.current()[session.user] !== session.via.hash) {
      sessions.end(session.id);
      return undefined;
    }
    return session;
  };

  const refuse = (response: ServerResponse, status: number, message: string): void => {
    sendJson(response, status, { error: { code: 'CUTOVER_E_FORBIDDEN', message, details: {} } });
  };

  /** Origin and CSRF token, for every state-changing request a session makes. */
  const checkChange = (request: IncomingMessage, response: ServerResponse, session: Session): boolean => {
    if (!sameOrigin(request, listener())) {
      refuse(response, 403, 'cross-origin request refused: the Origin header must be this dashboard');
      return false;
    }
    const given = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(session, typeof given === 'string' ? given : undefined)) {
      refuse(response, 403, `missing or wrong CSRF token (the ${CSRF_HEADER} header)`);
      return false;
    }
    return true;
  };

  const login = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const address = request.socket.remoteAddress ?? 'unknown';
    const html = (status: number, problem: string): void => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(loginPage(app, problem));
    };
    if (!sameOrigin(request, listener())) {
      html(403, 'This login came from another site and was refused.');
      return;
    }
    if (!throttle.allows(address)) {
      html(429, 'Too many failed logins from this address; wait a minute.');
      return;
    }
    const form = await readFormBody(request);
    const user = form.get('user') ?? '';
    const secret = form.get('secret') ?? '';
    let session: Session | undefined;
    if (validUserName(user) && secret.length > 0) {
      const hash = passwords.current()[user];
      if (hash !== undefined && (await passwordMatches(secret, hash))) {
        session = sessions.create(user, { kind: 'password', hash });
      } else if (secretIsToken(secret, deps.token)) {
        session = sessions.create(user, { kind: 'admin-token' });
      }
    }
    if (!session) {
      throttle.failed(address);
      // The name only: what was typed as the secret may be a near-miss of a real one.
      logger.warn('dashboard.login-failed', { user: validUserName(user) ? user : '(invalid)', address });
      html(401, 'Wrong name, password or token.');
      return;
    }
    logger.info('dashboard.login', { user: session.user, via: session.via.kind, address });
    response.writeHead(303, {
      location: '/',
      'set-cookie': sessionCookie(session.id, {
        secure: listener().tls,
        maxAgeSeconds: Math.floor(SESSION_LIFETIME_MS / 1000),
      }),
      'cache-control': 'no-store',
    });
    response.end();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const { pathname } = url;
    const method = request.method ?? 'GET';
    if (pathname.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) {
      const asset = assets.get(pathname.slice('/assets/'.length));
      if (asset) sendAsset(response, asset);
      else refuse(response, 404, `no such asset: ${pathname}`);
      return;
    }
    if (pathname === '/login' && method === 'GET') {
      if (sessionOf(request)) redirect(response, '/');
      else {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(loginPage(app, undefined));
      }
      return;
    }
    if (pathname === '/login' && method === 'POST') return login(request, response);
    const session = sessionOf(request);
    if (pathname === '/' && method === 'GET') {
      if (!session) return redirect(response, '/login');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(indexPage(app, session.user, session.csrfToken));
      return;
    }
    if (pathname === '/logout' && method === 'POST') {
      if (!session) return redirect(response, '/login');
      if (!checkChange(request, response, session)) return;
      sessions.end(session.id);
      logger.info('dashboard.logout', { user: session.user });
      response.writeHead(204, { 'set-cookie': clearedSessionCookie(listener().tls) });
      response.end();
      return;
    }
    if (pathname === '/dashboard/stream' && method === 'GET') {
      if (!session) return refuse(response, 401, 'log in first: the stream needs a dashboard session');
      streamDashboard(request, response, sources, session.user);
      return;
    }
    // A bearer token (the CLI) goes straight to the admin API, as before the dashboard.
    if (session && request.headers.authorization === undefined && sessionMayUse(method, pathname)) {
      if (method !== 'GET' && !checkChange(request, response, session)) return;
      await forwardToAdminApi(adminApi, request, response, deps.token, session.user);
      return;
    }
    adminApi(request, response);
  };

  return (request, response) => {
    setSecurityHeaders(response);
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    handle(request, response, url).catch((error: unknown) => {
      const failure = asCutoverError(error);
      if (failure.code === 'CUTOVER_E_INTERNAL')
        logger.error('dashboard.error', { path: url.pathname, error: failure.message });
      if (response.headersSent) response.destroy();
      else
        sendJson(response, failure.code === 'CUTOVER_E_BAD_REQUEST' ? 400 : 500, { error: failure.toJSON() });
    });
  };
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { location, 'cache-control': 'no-store' });
  response.end();
}

function secretIsToken(secret: string, token: string): boolean {
  const given = Buffer.from(secret);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
