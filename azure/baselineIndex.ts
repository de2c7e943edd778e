// Where the baselines of a target lie in Blob storage: the last completed capture's location, one small JSON blob per
// target (`alertcap-targets/{capture instance ID}/last.json` in the capture account's `network-watcher-logs`
// container, beside the captures it points at). The recorder's quiet window comes from the incident's lookback manifest,
// read as the timeline reads it (readIncidentManifest in azure/lookbackManifest.ts). Both live in the
// container of the incident's own capture, reached through checkStoragePath, so nothing here reads or writes outside
// the capture accounts alertcap is configured with. What they say is checked again before use: anyone who may write
// the container may write these blobs.
import { checkStoragePath } from "./captureFiles.js";

/** The last completed capture of a target: what the next capture on it compares with (ALERTCAP_BASELINE=last-capture). */
export interface LastCapture {
  version: 1;
  /** ARM ID of the target, as the capture orchestration had it. */
  target: string;
  /** The capture orchestration's instance ID (one per target). */
  instanceId: string;
  captureName: string | null;
  /** Where its file (or a scale set's folder of instance files) is: Network Watcher's storagePath, without a query. */
  storagePath: string;
  startedAt: string | null;
  stoppedAt: string | null;
  alertFiredAt: string | null;
}

const SAFE_ID = /^[a-z0-9._-]{1,100}$/;

export const lastCaptureBlobName = (instanceId: string): string => {
  if (!SAFE_ID.test(instanceId)) throw new Error(`"${instanceId.slice(0, 100)}" is not a capture instance ID.`);
  return `alertcap-targets/${instanceId}/last.json`;
};

const isNotFound = (error: unknown): boolean => (error as { statusCode?: number }).statusCode === 404;

/** A blob's JSON, or null when there is no such blob. Throws for storage errors and for text that is not JSON. */
async function readJson(storagePath: string, blobName: string): Promise<unknown> {
  const { container } = checkStoragePath(storagePath);
  let text: string;
  try {
    text = (await container.getBlobClient(blobName).downloadToBuffer()).toString("utf8");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${blobName} is not JSON`);
  }
}

/**
 * The last completed capture recorded for the target whose capture is at `storagePath`: null when none is recorded.
 * Throws when the record cannot be read or is not one alertcap wrote for this target.
 */
export async function readLastCapture(storagePath: string, instanceId: string, target: string): Promise<LastCapture | null> {
  const name = lastCaptureBlobName(instanceId);
  const record = (await readJson(storagePath, name)) as Partial<LastCapture> | null;
  if (record === null) return null;
  if (record?.version !== 1 || typeof record.storagePath !== "string" || typeof record.target !== "string") throw new Error(`${name} is not a last-capture record`);
  if (record.target.toLowerCase() !== target.toLowerCase()) throw new Error(`${name} names another target`);
  // Checked now: a record pointing outside the capture accounts is refused before anything is read there.
  checkStoragePath(record.storagePath);
  return record as LastCapture;
}

/** Records `record` as the target's last completed capture (overwriting the previous one). */
export async function writeLastCapture(record: LastCapture): Promise<void> {
  const { container } = checkStoragePath(record.storagePath);
  const body = JSON.stringify(record, null, 2);
  await container
    .getBlockBlobClient(lastCaptureBlobName(record.instanceId))
    .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json" } });
}

