// The notification machinery (SPEC §6b): build a Notifier from the config's sinks and hand it
// ChaosNotifications; everything else here is how they are written and delivered.
export {
  lastPhaseSeconds,
  notificationId,
  objectName,
  NOTIFY_EVENTS,
  type ChaosNotification,
  type NotifiedVictim,
  type NotifyEvent,
  type VictimPhases,
} from "./event.js";
export { Notifier, renderBody, type NotifierOptions } from "./notifier.js";
export {
  DELIVERY_DEFAULTS,
  type CountNotification,
  type DeliveryOptions,
  type Fetch,
  type NotifyLog,
} from "./sink.js";
export { slackMessage, SLACK_LIMITS, type SlackBlock, type SlackMessage } from "./slack.js";
export {
  CHAOS_EVENT_API_VERSION,
  CHAOS_EVENT_KIND,
  webhookBody,
  type ChaosEventBody,
} from "./webhook.js";
