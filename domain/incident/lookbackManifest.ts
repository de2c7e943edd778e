// Reading a recorder's lookback.json back: it lies in Blob storage, which more than alertcap may write, so it is
// checked field by field before anything in it is used, and its files must lie in the incident's own folder.
import { incidentFolder, type LookbackManifest, type SecuredFile } from "../recorder/plan.js";

const isText = (value: unknown): value is string => typeof value === "string";
const isTime = (value: unknown): value is string => isText(value) && Number.isFinite(Date.parse(value));
const MAX_FILES = 10_000;
/** Network Watcher's container, where the recorder's copies lie (azure/captureFiles.ts checks the same). */
const CAPTURE_CONTAINER = "network-watcher-logs";
const MAX_NOTES = 20;
const MAX_NOTE_CHARS = 500;

function securedFiles(value: unknown, folder: string, problems: string[]): SecuredFile[] {
  if (!Array.isArray(value)) return [];
  const files: SecuredFile[] = [];
  for (const entry of value.slice(0, MAX_FILES) as unknown[]) {
    const f = entry as Partial<SecuredFile> | null;
    if (!f || !isText(f.url) || !isTime(f.uploadedAt) || !(f.instance === null || isText(f.instance))) {
      problems.push("a file entry of the manifest is malformed");
      continue;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(f.url).pathname);
    } catch {
      problems.push("a file entry of the manifest has no valid URL");
      continue;
    }
    // The copy must be in this incident's folder (the recorder secures there), at the top of the capture container
    // (`network-watcher-logs`, as on the Azure side): not any blob whose path merely contains the folder's name.
    const container = path.indexOf(`/${CAPTURE_CONTAINER}/`);
    const blobName = container < 0 ? "" : path.slice(container + CAPTURE_CONTAINER.length + 2);
    if (!blobName.startsWith(`${folder}/`) || path.split("/").some((part) => part === "..")) {
      problems.push(`a file entry points outside the incident's folder (${path.slice(0, 200)})`);
      continue;
    }
    files.push({ url: f.url, instance: f.instance ?? null, sizeBytes: typeof f.sizeBytes === "number" ? f.sizeBytes : 0, uploadedAt: f.uploadedAt });
  }
  return files;
}

/**
 * The manifest when `parsed` (lookback.json as read) is one for this incident (its ID and alert time), with the file
 * entries that pass the checks; a problem sentence otherwise. Skipped entries are said in `notes`.
 */
export function parseLookbackManifest(parsed: unknown, incidentId: string, firedAt: string): LookbackManifest | string {
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "the lookback manifest is not a JSON object";
  const raw = parsed as Partial<LookbackManifest>;
  if (raw.incidentId !== incidentId) return "the lookback manifest names another incident";
  if (!isTime(raw.firedAt) || !isTime(raw.windowStart) || !isTime(raw.windowEnd)) return "the lookback manifest's times are missing or unreadable";
  const folder = incidentFolder(incidentId, firedAt);
  const problems: string[] = [];
  const lookback = securedFiles(raw.lookback, folder, problems);
  const baseline = securedFiles(raw.baseline, folder, problems);
  const notes = (Array.isArray(raw.notes) ? raw.notes : []).filter(isText).slice(0, MAX_NOTES).map((note) => note.slice(0, MAX_NOTE_CHARS));
  notes.push(...[...new Set(problems)]);
  return {
    incidentId,
    target: isText(raw.target) ? raw.target : "",
    firedAt: raw.firedAt,
    windowStart: raw.windowStart,
    windowEnd: raw.windowEnd,
    baseline,
    lookback,
    firstSecuredAt: isTime(raw.firstSecuredAt) ? raw.firstSecuredAt : null,
    securedAt: isTime(raw.securedAt) ? raw.securedAt : null,
    complete: raw.complete === true,
    notes,
  };
}

/** The lookback's files in the order they were recorded (upload time, then name), for one timeline. */
export function lookbackInOrder(manifest: LookbackManifest): SecuredFile[] {
  return [...manifest.lookback].sort((a, b) => Date.parse(a.uploadedAt) - Date.parse(b.uploadedAt) || a.url.localeCompare(b.url, "en", { numeric: true }));
}

/** The lookback the manifest covers, in whole seconds (what ALERTCAP_LOOKBACK_SECONDS was when the recorder cut). */
export function lookbackSecondsOf(manifest: LookbackManifest): number {
  return Math.max(0, Math.round((Date.parse(manifest.firedAt) - Date.parse(manifest.windowStart)) / 1000));
}
