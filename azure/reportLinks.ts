// Links to a capture's report that a person can open with nothing but a browser: the report blob's URL with a
// read-only SAS for that one blob, valid for ALERTCAP_REPORT_LINK_HOURS. Capture accounts allow no public access and
// no key-based requests from alertcap, so in Azure the SAS is a user-delegation SAS, signed with a key the managed
// identity asks for (Storage Blob Delegator on the account); on the local stack it is a service SAS signed with
// Azurite's account key from the connection string, and the link opens against Azurite on 127.0.0.1.
//
// Links are minted when they are needed (by the notify activity, by GET /api/captures/{id}) and never stored: durable
// state (history, custom status, output) is readable through the management API and ends up in logs, so it keeps only
// the report's blob path (progress.reportPath).
import { BlobSASPermissions, BlobServiceClient, type ContainerClient, SASProtocol, StorageSharedKeyCredential, type UserDelegationKey } from "@azure/storage-blob";
import { checkStoragePath } from "./captureFiles.js";
import { azureCredential } from "./credential.js";
import { STORAGE_TOKEN_SCOPE } from "./endpoints.js";

export const DEFAULT_REPORT_LINK_HOURS = 72;
/** A user delegation key, and so a user-delegation SAS, lasts at most 7 days. */
export const MAX_REPORT_LINK_HOURS = 168;

const HOUR_MS = 3600_000;

/**
 * ALERTCAP_REPORT_LINK_HOURS: how long a report link stays valid. Unset: 72. More than 168: 168, with a notice. Not a
 * positive number: 72, with the one-line problem to print at start-up.
 */
export function parseReportLinkHours(value: string | undefined): { hours: number; problem: string | null } {
  const text = value?.trim() ?? "";
  if (text === "") return { hours: DEFAULT_REPORT_LINK_HOURS, problem: null };
  const hours = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(hours > 0)) {
    return {
      hours: DEFAULT_REPORT_LINK_HOURS,
      problem: `ALERTCAP_REPORT_LINK_HOURS is "${text.slice(0, 50)}", not a number of hours above 0; report links last ${DEFAULT_REPORT_LINK_HOURS} hours until it is fixed`,
    };
  }
  if (hours > MAX_REPORT_LINK_HOURS) {
    return {
      hours: MAX_REPORT_LINK_HOURS,
      problem: `ALERTCAP_REPORT_LINK_HOURS is ${text}, more than ${MAX_REPORT_LINK_HOURS} (7 days, the longest a user delegation key lasts); report links last ${MAX_REPORT_LINK_HOURS} hours`,
    };
  }
  return { hours, problem: null };
}

export interface ReportLink {
  /** The report blob's URL with its SAS: opens with no other credential. A secret while it is valid: never log it. */
  url: string;
  /** ISO 8601: when the link stops working. */
  expiresOn: string;
}

/**
 * When a link made at `now` for an event at `eventTime` expires: `hours` after the event, rounded down to the second,
 * so every re-run of the notify activity signs the same times (and, locally, the same URL). A link that would already
 * be (nearly) dead, on a re-run long after the event, counts from now instead; never beyond the 7-day key limit.
 */
export function linkExpiry(hours: number, now: Date, eventTime?: Date): Date {
  const lifetime = Math.min(hours, MAX_REPORT_LINK_HOURS) * HOUR_MS;
  const fromEvent = eventTime && Number.isFinite(eventTime.getTime()) ? eventTime.getTime() + lifetime : Number.NaN;
  const usable = fromEvent - now.getTime() >= Math.min(lifetime, HOUR_MS) && fromEvent <= now.getTime() + lifetime;
  const expiry = usable ? fromEvent : now.getTime() + lifetime;
  return new Date(Math.floor(expiry / 1000) * 1000);
}

// User delegation keys, per account and validity window: one key signs every link with the same expiry (the status
// endpoint asks for one per request otherwise).
const delegationKeys = new Map<string, Promise<UserDelegationKey>>();

function delegationKey(container: ContainerClient, startsOn: Date, expiresOn: Date): Promise<UserDelegationKey> {
  const origin = new URL(container.url).origin;
  const cacheKey = `${origin} ${startsOn.toISOString()} ${expiresOn.toISOString()}`;
  let key = delegationKeys.get(cacheKey);
  if (!key) {
    const service = new BlobServiceClient(origin, azureCredential(), { audience: STORAGE_TOKEN_SCOPE });
    key = service.getUserDelegationKey(startsOn, expiresOn);
    // A failure is not cached: the next link asks again (the role may have just been granted).
    key.catch(() => delegationKeys.delete(cacheKey));
    if (delegationKeys.size > 100) delegationKeys.clear();
    delegationKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * A link people can open to the report at `reportPath` (a blob URL as the analysis recorded it, checked like every
 * capture path): read permission on that one blob only, expiring as linkExpiry says. Throws when it cannot be signed
 * (a path outside the capture accounts, no right to a user delegation key): the caller shows no link rather than a
 * dead one.
 */
export async function reportLinkFor(reportPath: string, options: { hours?: number; now?: Date; eventTime?: Date } = {}): Promise<ReportLink> {
  const { container, path } = checkStoragePath(reportPath);
  const blob = container.getBlobClient(path);
  const now = options.now ?? new Date();
  const hours = Math.min(options.hours ?? parseReportLinkHours(process.env.ALERTCAP_REPORT_LINK_HOURS).hours, MAX_REPORT_LINK_HOURS);
  const expiresOn = linkExpiry(hours, now, options.eventTime);
  const permissions = BlobSASPermissions.parse("r");
  let url: string;
  if (blob.credential instanceof StorageSharedKeyCredential) {
    // The local stack (Azurite over http on 127.0.0.1): a service SAS from the connection string's account key.
    url = await blob.generateSasUrl({ permissions, expiresOn });
  } else {
    // The key's window follows from the link's alone, so a re-run asks for the same key; it starts a little before the
    // link's lifetime does (clock skew), which linkExpiry keeps within the 7 days before now that Azure accepts.
    const keyStartsOn = new Date(expiresOn.getTime() - hours * HOUR_MS - 15 * 60_000);
    const key = await delegationKey(container, keyStartsOn, expiresOn);
    url = await blob.generateUserDelegationSasUrl({ permissions, expiresOn, protocol: SASProtocol.Https }, key);
  }
  return { url, expiresOn: expiresOn.toISOString() };
}

/**
 * The report link fields GET /api/captures/{id} adds to a capture's status: `reportUrl` (null until there is a report)
 * and when it expires, minted on each request. Links made within the same hour are the same link (and, in Azure, share
 * one user delegation key). When no link can be signed, `reportUrl` is null and `reportUrlError` says why.
 */
export async function reportLinkFields(reportPath: unknown, now = new Date()): Promise<{ reportUrl: string | null; reportUrlExpiresOn?: string; reportUrlError?: string }> {
  if (typeof reportPath !== "string" || reportPath === "") return { reportUrl: null };
  try {
    const link = await reportLinkFor(reportPath, { now, eventTime: new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS) });
    return { reportUrl: link.url, reportUrlExpiresOn: link.expiresOn };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300);
    return { reportUrl: null, reportUrlError: `No link to the report could be signed: ${message}` };
  }
}
