// A recorder's lookback.json for an incident, read from the capture's own account and container (the recorder
// secures the lookback beside the captures), through the same storagePath checks as every capture file.
import { checkStoragePath, CAPTURE_CONTAINER } from "./captureFiles.js";
import { incidentFolder, LOOKBACK_MANIFEST } from "../domain/recorder/plan.js";

/** The manifest's URL in the account and container of `storagePath` (a capture's, already trusted as far as checked). */
export function lookbackManifestUrl(storagePath: string, incidentId: string, firedAt: string): string {
  const url = new URL(storagePath);
  const marker = `/${CAPTURE_CONTAINER}/`;
  const at = url.pathname.indexOf(marker);
  if (at < 0) throw new Error(`The storage path ${url.origin}${url.pathname.slice(0, 200)} is not in the ${CAPTURE_CONTAINER} container.`);
  const blob = `${incidentFolder(incidentId, firedAt)}/${LOOKBACK_MANIFEST}`.split("/").map(encodeURIComponent).join("/");
  return `${url.origin}${url.pathname.slice(0, at + marker.length)}${blob}`;
}

/** Largest manifest read: 10,000 file entries of a few hundred bytes. */
const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** The manifest's text, or null while there is none (no recorder, or it has not written it yet). */
export async function readLookbackManifestText(manifestUrl: string): Promise<string | null> {
  const { container, path } = checkStoragePath(manifestUrl);
  const blob = container.getBlobClient(path);
  try {
    const size = (await blob.getProperties()).contentLength ?? 0;
    if (size > MAX_MANIFEST_BYTES) throw new Error(`The lookback manifest ${path} is ${size} bytes, more than a recorder writes.`);
    return (await blob.downloadToBuffer()).toString("utf8");
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}
