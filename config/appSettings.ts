// The app settings the HTTP functions need, read from the environment once per worker (a restart picks up
// changes, as with every Functions app setting).
import { parseAllowedScopes } from "../domain/alerts/scopes.js";
import { cloudSettingError } from "../azure/endpoints.js";
import { type CaptureSettings, parseCaptureSettings } from "../domain/capture/settings.js";

export interface ScopePolicy {
  /** null: no restriction (only on the local stack, when it says so); otherwise the allowed ARM ID prefixes. */
  allowed: string[] | null;
  /** Set when captures are refused for every target, with the sentence that says why. */
  refuseAll: string | null;
  /** What to tell the operator at start-up. */
  notice: string;
}

/** Running in Azure App Service / Functions (these are set by the platform). */
export const runsInAzure = (): boolean => Boolean(process.env.WEBSITE_INSTANCE_ID || process.env.WEBSITE_SITE_NAME);

let scopePolicy: ScopePolicy | undefined;

/**
 * ALERTCAP_ALLOWED_SCOPES, failing closed: in Azure an unset or malformed allowlist starts no capture at all. The
 * local stack may set ALERTCAP_ALLOW_ANY_SCOPE=true to capture anywhere in its emulated inventory.
 */
export function allowedScopes(): ScopePolicy {
  if (scopePolicy) return scopePolicy;
  const parsed = parseAllowedScopes(process.env.ALERTCAP_ALLOWED_SCOPES);
  if (parsed.errors.length > 0) {
    const why = `ALERTCAP_ALLOWED_SCOPES is malformed, so no capture is started: ${parsed.errors.join(" ")}`;
    scopePolicy = { allowed: [], refuseAll: why, notice: why };
  } else if (parsed.scopes.length > 0) {
    scopePolicy = { allowed: parsed.scopes, refuseAll: null, notice: `captures allowed under ${parsed.scopes.join(", ")}` };
  } else if (!runsInAzure() && process.env.ALERTCAP_ALLOW_ANY_SCOPE === "true") {
    scopePolicy = { allowed: null, refuseAll: null, notice: "ALERTCAP_ALLOWED_SCOPES is not set: the local stack allows captures on any target (ALERTCAP_ALLOW_ANY_SCOPE=true)" };
  } else {
    const why =
      "ALERTCAP_ALLOWED_SCOPES is not set, so no capture is started: set it to the subscriptions or resource groups alertcap may capture in (comma-separated, e.g. /subscriptions/<id>/resourceGroups/<rg>).";
    scopePolicy = { allowed: [], refuseAll: why, notice: why };
  }
  return scopePolicy;
}

let captureSettings: { settings: CaptureSettings } | { error: string } | undefined;

/** Capture settings, or the sentence saying what is misconfigured (ALERTCAP_CLOUD included: no capture without it). */
export function captureSettingsOrError(): { settings: CaptureSettings } | { error: string } {
  if (!captureSettings) {
    const parsed = parseCaptureSettings(process.env);
    const errors = [...(parsed.ok ? [] : parsed.errors), ...configurationProblems()];
    captureSettings = parsed.ok && errors.length === 0 ? { settings: parsed.settings } : { error: `alertcap is not configured correctly: ${errors.join("; ")}` };
  }
  return captureSettings;
}

/** Settings wrong enough that alertcap should say so at start-up, one line each. */
export function configurationProblems(): string[] {
  const cloud = cloudSettingError();
  return cloud ? [cloud] : [];
}

/**
 * Names of the storage accounts in ALERTCAP_CAPTURE_STORAGE_ID, read now (activities re-read the app settings rather
 * than trust what reaches them through ARM or durable state). Empty when the setting is missing or malformed.
 */
export function captureStorageAccountNames(): string[] {
  const parsed = parseCaptureSettings(process.env);
  if (!parsed.ok) return [];
  return [...new Set(parsed.settings.storageAccounts.map((account) => account.id.split("/").at(-1)!.toLowerCase()))];
}

/** Largest webhook body accepted (ALERTCAP_MAX_ALERT_BYTES): action groups send at most 256 KB, the default. */
export function maxAlertBytes(): number {
  const configured = Number(process.env.ALERTCAP_MAX_ALERT_BYTES);
  return Number.isInteger(configured) && configured > 0 ? configured : 256 * 1024;
}

/**
 * How many targets one alert may act on (ALERTCAP_MAX_TARGETS_PER_ALERT, default 10). An alert can name up to 100,
 * some taken from log-search result columns, i.e. from log data an attacker may be able to write.
 */
export function maxTargetsPerAlert(): number {
  const configured = Number(process.env.ALERTCAP_MAX_TARGETS_PER_ALERT);
  return Number.isInteger(configured) && configured > 0 ? configured : 10;
}
