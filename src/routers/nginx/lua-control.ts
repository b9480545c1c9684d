/**
 * The client side of the lua mode's control location (lua-include.ts): GET reads the routing
 * table every nginx worker uses, PUT replaces it. Over loopback TCP or a unix socket, with the
 * bearer token from the 0600 token file, read again for every call so a rotated token (file
 * rewritten, nginx reloaded) needs no cutover restart.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CutoverError } from '../../shared/errors.js';
import { CONTROL_PATH } from './lua-include.js';

const target = z.object({ id: z.string(), host: z.string(), port: z.number().int() });
const controlAnswer = z.object({
  version: z.number().int(),
  table: z
    .object({
      weights: z.object({ blue: z.number().int(), green: z.number().int() }),
      preview: z.enum(['blue', 'green']).nullable(),
      previewTokenSet: z.boolean(),
      targets: z.object({ blue: z.array(target), green: z.array(target) }),
    })
    .nullable(),
  inFlight: z.object({ blue: z.number().int(), green: z.number().int() }),
});
/** What nginx answers: the table in its shared memory (null before the first PUT) and in-flight counts. */
export type ControlAnswer = z.infer<typeof controlAnswer>;

/** How long one control request may take; nginx answers from memory, so this is generous. */
const CONTROL_TIMEOUT_MS = 5000;

export class LuaControlClient {
  constructor(
    /** `127.0.0.1:PORT`, `[::1]:PORT`, `localhost:PORT` or `unix:/path`. */
    private readonly listen: string,
    private readonly tokenFile: string,
  ) {}

  read(): Promise<ControlAnswer> {
    return this.call('GET');
  }

  write(table: string): Promise<ControlAnswer> {
    return this.call('PUT', table);
  }

  private async call(method: 'GET' | 'PUT', body?: string): Promise<ControlAnswer> {
    const token = (await readFile(this.tokenFile, 'utf8')).trim();
    const { status, text } = await this.request(method, token, body);
    if (status === 401) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `nginx refused the control token in ${this.tokenFile}: nginx loaded another one at its last start or reload; reload nginx after changing the file`,
      );
    }
    if (status !== 200) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `nginx control ${method} answered ${status}: ${text.trim()}`,
      );
    }
    const parsed = controlAnswer.safeParse(parseJson(text));
    if (!parsed.success) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `nginx control answer is not a routing table: ${text.slice(0, 200)}`,
      );
    }
    return parsed.data;
  }

  private request(method: string, token: string, body?: string): Promise<{ status: number; text: string }> {
    const where = this.listen.startsWith('unix:')
      ? { socketPath: this.listen.slice('unix:'.length) }
      : { host: hostOf(this.listen), port: Number(this.listen.slice(this.listen.lastIndexOf(':') + 1)) };
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          ...where,
          method,
          path: CONTROL_PATH,
          agent: false,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      request.setTimeout(CONTROL_TIMEOUT_MS, () =>
        request.destroy(new Error(`no answer within ${CONTROL_TIMEOUT_MS}ms`)),
      );
      request.on('error', (error) =>
        reject(
          new CutoverError(
            'CUTOVER_E_ROUTER',
            `nginx's control location at ${this.listen} does not answer (${error.message}); is nginx running with the lua mode include loaded?`,
            { cause: error },
          ),
        ),
      );
      request.end(body);
    });
  }
}

function hostOf(listen: string): string {
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The answer's JSON, or undefined when it is not JSON (reported with the text by the caller). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
