// The action group that delivers alerts to alertcap: one webhook receiver calling the alertcap webhook with the
// common alert schema (the payload alertcap reads most directly), optionally a Secure webhook authenticated with
// Microsoft Entra ID (shared/docs/alert-webhooks.md §3: `useAadAuth`, `objectId`, `identifierUri`, `tenantId`).
//
// The body is the wire body of ActionGroups_CreateOrUpdate (api-version 2024-10-01-preview), as @azure/arm-monitor 8
// sends it: `{ location, properties }`; it validates against the spec's `ActionGroupResource`.

export const DEFAULT_ACTION_GROUP_NAME = "alertcap-ag";
/** Shown in SMS and e-mail notifications; the API allows at most 12 characters. */
export const DEFAULT_GROUP_SHORT_NAME = "alertcap";
export const GROUP_SHORT_NAME_MAX_LENGTH = 12;
export const WEBHOOK_RECEIVER_NAME = "alertcap-webhook";
/** Action groups are global resources; the service answers with this spelling (official example). */
export const ACTION_GROUP_LOCATION = "Global";

export interface SecureWebhookSettings {
  /** The Entra tenant of the app registration protecting the webhook. */
  readonly tenantId: string;
  /** Object ID of that app registration. */
  readonly objectId: string;
  /** Its Application ID URI (`api://…`). */
  readonly identifierUri: string;
}

export interface WebhookReceiverBody {
  name: string;
  serviceUri: string;
  useCommonAlertSchema: boolean;
  useAadAuth?: boolean;
  objectId?: string;
  identifierUri?: string;
  tenantId?: string;
}

export interface ActionGroupBody {
  location: string;
  properties: {
    groupShortName: string;
    enabled: boolean;
    webhookReceivers: WebhookReceiverBody[];
  };
}

export interface ActionGroupInput {
  /** The alertcap webhook URL, with its function key. */
  readonly webhookUrl: string;
  readonly secureWebhook?: SecureWebhookSettings;
  readonly groupShortName?: string;
}

export function actionGroupBody(input: ActionGroupInput): ActionGroupBody {
  const groupShortName = input.groupShortName ?? DEFAULT_GROUP_SHORT_NAME;
  if (groupShortName.length === 0 || groupShortName.length > GROUP_SHORT_NAME_MAX_LENGTH) {
    throw new Error(`an action group short name has 1 to ${GROUP_SHORT_NAME_MAX_LENGTH} characters, not ${groupShortName.length}`);
  }
  const receiver: WebhookReceiverBody = {
    name: WEBHOOK_RECEIVER_NAME,
    serviceUri: input.webhookUrl,
    // alertcap understands every schema, but the common one names the target and monitor condition most directly.
    useCommonAlertSchema: true,
  };
  if (input.secureWebhook) {
    receiver.useAadAuth = true;
    receiver.objectId = input.secureWebhook.objectId;
    receiver.identifierUri = input.secureWebhook.identifierUri;
    receiver.tenantId = input.secureWebhook.tenantId;
  }
  return {
    location: ACTION_GROUP_LOCATION,
    properties: { groupShortName, enabled: true, webhookReceivers: [receiver] },
  };
}
