import type { Notification } from './notification.js';

/**
 * A Slack incoming-webhook message: `text` is what Slack shows and what compatible receivers
 * (Mattermost, Rocket.Chat, Teams' Slack-compatible connectors) read.
 */
export function slackMessage(notification: Notification): string {
  const id = notification.deployment.id;
  return JSON.stringify({ text: `${notification.summary} (deployment ${id})` });
}
