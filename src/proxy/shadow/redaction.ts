/**
 * What a differing pair's sample may show. Samples leave the worker (to the control plane, the
 * deployment's journal, `cutover diff`), so secrets are replaced before they do: the values of
 * cookies, Set-Cookie, Authorization, Proxy-Authorization and the configured secret header
 * fields, and the values of query parameters with a secret-sounding or configured name.
 */

export const REDACTED = '[redacted]';

/** Header fields whose values are never shown, whatever the config says. */
export const ALWAYS_SECRET_HEADERS: readonly string[] = [
  'cookie',
  'set-cookie',
  'authorization',
  'proxy-authorization',
];

/** Query parameters whose values are never shown (matched without case, `-` and `_`). */
export const ALWAYS_SECRET_QUERY_NAMES: readonly string[] = [
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'key',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'signature',
  'sig',
  'auth',
  'code',
  'session',
  'sessionid',
  'xamzsignature',
  'xamzcredential',
  'xamzsecuritytoken',
];

export class Redactor {
  private readonly secretHeaders: ReadonlySet<string>;
  private readonly secretQueryNames: ReadonlySet<string>;

  constructor(options: {
    readonly secretHeaders: readonly string[];
    readonly secretQueryNames: readonly string[];
  }) {
    this.secretHeaders = new Set([
      ...ALWAYS_SECRET_HEADERS,
      ...options.secretHeaders.map((name) => name.toLowerCase()),
    ]);
    this.secretQueryNames = new Set(
      [...ALWAYS_SECRET_QUERY_NAMES, ...options.secretQueryNames].map(queryKey),
    );
  }

  headers(fields: Readonly<Record<string, string>>): Record<string, string> {
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields))
      shown[name] = this.secretHeaders.has(name) ? REDACTED : value;
    return shown;
  }

  /**
   * The request target with secret query values replaced; the rest is kept as it came (not
   * re-encoded), so what is shown is what the app received.
   */
  target(target: string): string {
    const question = target.indexOf('?');
    if (question < 0) return target;
    const hash = target.indexOf('#', question);
    const query = target.slice(question + 1, hash < 0 ? undefined : hash);
    const parts = query.split('&').map((part) => {
      const equals = part.indexOf('=');
      const rawName = equals < 0 ? part : part.slice(0, equals);
      if (!this.secretQueryNames.has(queryKey(decodeLenient(rawName)))) return part;
      return `${rawName}=${REDACTED}`;
    });
    return `${target.slice(0, question)}?${parts.join('&')}${hash < 0 ? '' : target.slice(hash)}`;
  }
}

/** Compared without case, `-` and `_`: `api_key`, `API-Key` and `apikey` are one name. */
function queryKey(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/** A malformed %-escape (a hostile target) is read as the text it is, never thrown on. */
function decodeLenient(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
