import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NotifierConfig } from './config.js';

/** A notifier's secrets, read from their files: the receiver's URL and the signing key. */
export interface NotifierSecrets {
  readonly url: string;
  readonly signingKey?: Buffer;
}

/** Why a notifier's file cannot be used, with the key that names it. */
export interface NotifierFileProblem {
  readonly key: 'urlFile' | 'secretFile';
  readonly message: string;
}

export type NotifierSecretsRead =
  | { readonly ok: true; readonly secrets: NotifierSecrets }
  | { readonly ok: false; readonly problem: NotifierFileProblem };

/** Reads what the config points at; the messages name the file, never what it holds. */
export function readNotifierSecrets(notifier: NotifierConfig, baseDir: string): NotifierSecretsRead {
  let url = notifier.url;
  if (url === undefined) {
    const file = path.resolve(baseDir, notifier.urlFile!);
    const read = readSecretFile(file);
    if (!read.ok) return { ok: false, problem: { key: 'urlFile', message: read.message } };
    url = read.content.toString('utf8').split(/\r?\n/, 1)[0]!.trim();
    if (!isHttpUrl(url))
      return {
        ok: false,
        problem: { key: 'urlFile', message: `${file} does not start with an http(s) URL` },
      };
  }
  if (notifier.kind !== 'webhook' || notifier.secretFile === undefined) return { ok: true, secrets: { url } };
  const keyFile = path.resolve(baseDir, notifier.secretFile);
  const key = readSecretFile(keyFile);
  if (!key.ok) return { ok: false, problem: { key: 'secretFile', message: key.message } };
  return { ok: true, secrets: { url, signingKey: key.content } };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function readSecretFile(file: string): { ok: true; content: Buffer } | { ok: false; message: string } {
  try {
    const content = readFileSync(file);
    return content.length === 0 ? { ok: false, message: `${file} is empty` } : { ok: true, content };
  } catch (error) {
    return {
      ok: false,
      message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    };
  }
}
