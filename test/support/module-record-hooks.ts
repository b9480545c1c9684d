/** The loader hooks of module-record.ts: every URL the ES loader resolves, appended to the record. */
import { appendFileSync } from 'node:fs';
import type { InitializeHook, ResolveHook } from 'node:module';

let record = '';

export const initialize: InitializeHook<{ file: string }> = ({ file }) => {
  record = file;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(record, `${resolved.url}\n`);
  return resolved;
};
