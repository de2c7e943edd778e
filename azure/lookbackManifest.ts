// Where a recorder's lookback.json for an incident is: in the capture's own account and container (the recorder
// secures the lookback beside the captures). Read with readLookbackManifest (lookbackFiles.ts), which checks the path.
import { CAPTURE_CONTAINER, StoragePathRefusedError } from "./captureFiles.js";
import { readLookbackManifest } from "./lookbackFiles.js";
import { parseLookbackManifest } from "../domain/incident/lookbackManifest.js";
import { incidentFolder, LOOKBACK_MANIFEST, type LookbackManifest } from "../domain/recorder/plan.js";

/** The manifest's URL in the account and container of `storagePath` (a capture's, already trusted as far as checked). */
export function lookbackManifestUrl(storagePath: string, incidentId: string, firedAt: string): string {
  const url = new URL(storagePath);
  const marker = `/${CAPTURE_CONTAINER}/`;
  const at = url.pathname.indexOf(marker);
  if (at < 0) throw new StoragePathRefusedError(`The storage path ${url.origin}${url.pathname.slice(0, 200)} is not in the ${CAPTURE_CONTAINER} container.`);
  const blob = `${incidentFolder(incidentId, firedAt)}/${LOOKBACK_MANIFEST}`.split("/").map(encodeURIComponent).join("/");
  return `${url.origin}${url.pathname.slice(0, at + marker.length)}${blob}`;
}

/** The manifest at `manifestUrl` as it lies (not yet checked: see parseLookbackManifest), or null while there is none. */
export async function readLookbackManifestJson(manifestUrl: string): Promise<unknown> {
  try {
    return await readLookbackManifest(manifestUrl);
  } catch (error) {
    // Not JSON: the manifest is unreadable for good, which the parse says in its own words.
    if (error instanceof SyntaxError) return "";
    throw error;
  }
}

/**
 * An incident's lookback manifest beside the capture at `storagePath`, checked (parseLookbackManifest: this incident's,
 * files in its folder only): the manifest, null while there is none, or why it cannot be used.
 */
export async function readIncidentManifest(storagePath: string, incidentId: string, firedAt: string): Promise<LookbackManifest | string | null> {
  const json = await readLookbackManifestJson(lookbackManifestUrl(storagePath, incidentId, firedAt));
  return json === null ? null : parseLookbackManifest(json, incidentId, firedAt);
}
