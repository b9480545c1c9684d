import type { NotifierConfig } from '../notifications/config.js';
import { readNotifierSecrets } from '../notifications/notifier-files.js';
import type { ExplainedIssue } from './issue-messages.js';

/** A notifier's URL or key file that is missing, empty or not a URL fails the load, at its key's line. */
export function notifierFileIssues(notifiers: readonly NotifierConfig[], baseDir: string): ExplainedIssue[] {
  return notifiers.flatMap((notifier, index): ExplainedIssue[] => {
    const read = readNotifierSecrets(notifier, baseDir);
    if (read.ok) return [];
    return [
      { path: ['notifications', index, read.problem.key], pointAt: 'value', message: read.problem.message },
    ];
  });
}
