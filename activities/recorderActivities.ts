// The flight recorder's activities: thin wrappers over azure/recorderSessions.ts, azure/packetCaptures.ts and
// azure/lookbackFiles.ts. Each first re-derives what it acts on from the target's ID and the app settings
// (trustedTarget, parseRecorderSettings): the orchestration input, which anyone holding the durable system key can
// write, only ever picks among things alertcap would do anyway.
import * as df from "durable-functions";
import { captureContainerOf, copyWithinContainer, listRingFiles, readLookbackManifestVersion, ringFileRelativeName, writeLookbackManifest } from "../azure/lookbackFiles.js";
import { parseLookbackManifest } from "../domain/incident/lookbackManifest.js";
import { deletePacketCapture, getPacketCapture, queryPacketCapture, stopPacketCapture } from "../azure/packetCaptures.js";
import { checkRecorderTarget, createRecorderSession, recorderSessionBody, recorderSessionNames } from "../azure/recorderSessions.js";
import { checkStoragePath, StoragePathRefusedError } from "../azure/captureFiles.js";
import { storageAccountFor } from "../domain/capture/settings.js";
import type { CaptureResourceState, CreateCaptureOutput, QueryCaptureOutput } from "../domain/capture/steps.js";
import { type RingFile, selectRingFiles } from "../domain/recorder/lookback.js";
import { compactTime, incidentFolder, isRecorderSessionFor, LOOKBACK_MANIFEST, type LookbackManifest, type SecuredFile } from "../domain/recorder/plan.js";
import { parseRecorderSettings, type RecorderSettings } from "../domain/recorder/settings.js";
import {
  CHECK_RECORDER_TARGET,
  CREATE_RECORDER_SESSION,
  type CreateRecorderSessionInput,
  DELETE_RECORDER_SESSION,
  GET_RECORDER_SESSION,
  QUERY_RECORDER_SESSION,
  type RecorderSessionRef,
  type RecorderTargetCheckOutput,
  SECURE_LOOKBACK,
  type SecureLookbackInput,
  type SecureLookbackOutput,
  STOP_RECORDER_SESSION,
  SWEEP_RECORDER_SESSIONS,
  type SweepRecorderSessionsInput,
  type SweepRecorderSessionsOutput,
} from "./contracts.js";
import { trustedTarget } from "./trustedTarget.js";

/** The recorder settings as the app settings say now, or the sentence saying what is wrong with them. */
function recorderSettings(): { ok: true; settings: RecorderSettings } | { ok: false; reason: string } {
  const parsed = parseRecorderSettings(process.env);
  return parsed.ok ? parsed : { ok: false, reason: `alertcap's recorder settings are not valid: ${parsed.errors.join("; ")}` };
}

/** The target re-derived and in scope, and the watcher in its subscription. */
function trustedWatcherRef(claimed: { target: RecorderSessionRef["target"]; watcher: RecorderSessionRef["watcher"] }): Omit<RecorderSessionRef, "sessionName"> {
  const trusted = trustedTarget(claimed?.target);
  if (!trusted.ok) throw new Error(`Refused: ${trusted.reason}`);
  if (String(claimed.watcher?.subscriptionId).toLowerCase() !== trusted.target.subscriptionId.toLowerCase()) {
    throw new Error(`Refused: the Network Watcher named is not in the target's subscription ${trusted.target.subscriptionId}.`);
  }
  return { target: trusted.target, watcher: { subscriptionId: trusted.target.subscriptionId, resourceGroup: String(claimed.watcher.resourceGroup), name: String(claimed.watcher.name) } };
}

/** A session reference re-derived: target in scope, watcher in its subscription, a name a recorder of it gives. */
function trustedSessionRef(claimed: RecorderSessionRef): RecorderSessionRef {
  const ref = trustedWatcherRef(claimed);
  if (typeof claimed.sessionName !== "string" || !isRecorderSessionFor(claimed.sessionName, ref.target)) {
    throw new Error(`Refused: ${String(claimed.sessionName).slice(0, 100)} is not a name alertcap gives recorder sessions of ${ref.target.name}.`);
  }
  return { ...ref, sessionName: claimed.sessionName };
}

df.app.activity(CHECK_RECORDER_TARGET, {
  handler: async ({ target }: { target: RecorderSessionRef["target"] }): Promise<RecorderTargetCheckOutput> => {
    const trusted = trustedTarget(target);
    if (!trusted.ok) return { ok: false, retry: false, reason: trusted.reason };
    const settings = recorderSettings();
    if (!settings.ok) return { ok: false, retry: false, reason: settings.reason };
    const checked = await checkRecorderTarget(trusted.target);
    return checked.ok ? { ...checked, settings: settings.settings } : checked;
  },
});

df.app.activity(CREATE_RECORDER_SESSION, {
  handler: async (input: CreateRecorderSessionInput): Promise<CreateCaptureOutput> => {
    const ref = trustedSessionRef(input);
    const trusted = trustedTarget(ref.target);
    const settings = recorderSettings();
    if (!trusted.ok) return trusted;
    if (!settings.ok) return settings;
    const storageAccountId = storageAccountFor(trusted.settings, String(input.location));
    if (!storageAccountId) {
      return { ok: false, reason: `No capture storage account is configured for region ${input.location}: Network Watcher needs one in the target's region (ALERTCAP_CAPTURE_STORAGE_ID).` };
    }
    const body = recorderSessionBody(ref.target, ref.sessionName, input.osType === "Windows" ? "Windows" : "Linux", settings.settings.ring, trusted.settings, storageAccountId);
    return createRecorderSession(ref.watcher, ref.sessionName, body, String(input.requestedAt));
  },
});

df.app.activity(GET_RECORDER_SESSION, {
  handler: (input: RecorderSessionRef): Promise<CaptureResourceState> => {
    const ref = trustedSessionRef(input);
    return getPacketCapture(ref.watcher, ref.sessionName);
  },
});

df.app.activity(QUERY_RECORDER_SESSION, {
  handler: (input: RecorderSessionRef): Promise<QueryCaptureOutput> => {
    const ref = trustedSessionRef(input);
    return queryPacketCapture(ref.watcher, ref.sessionName);
  },
});

df.app.activity(STOP_RECORDER_SESSION, {
  handler: (input: RecorderSessionRef): Promise<void> => {
    const ref = trustedSessionRef(input);
    return stopPacketCapture(ref.watcher, ref.sessionName);
  },
});

df.app.activity(DELETE_RECORDER_SESSION, {
  handler: (input: RecorderSessionRef): Promise<void> => {
    const ref = trustedSessionRef(input);
    return deletePacketCapture(ref.watcher, ref.sessionName);
  },
});

df.app.activity(SWEEP_RECORDER_SESSIONS, {
  handler: async (input: SweepRecorderSessionsInput): Promise<SweepRecorderSessionsOutput> => {
    const keep = new Set((Array.isArray(input.keep) ? input.keep : []).map(String));
    const probe = trustedWatcherRef(input);
    const removed: string[] = [];
    // Strays: recorder sessions of this target that the recorder no longer tracks (a crash between creating a new
    // session and recording its name, or an older recorder's): stopped and deleted, their files stay.
    for (const name of await recorderSessionNames(probe.watcher, probe.target)) {
      if (keep.has(name)) continue;
      await stopPacketCapture(probe.watcher, name);
      await deletePacketCapture(probe.watcher, name);
      removed.push(name);
    }
    return { removed };
  },
});

/** Capture instance IDs, as they reach a blob name: the orchestration ID alphabet, no dot segments. */
const isIncidentId = (id: unknown): id is string => typeof id === "string" && /^[A-Za-z0-9._:-]{1,100}$/.test(id) && !/^\.+$/.test(id) && !id.includes("..");

/** ALERTCAP_BASELINE (owned by the baseline feature): the ring's quiet window is secured for `recorder` and `auto`. */
const wantsRecorderBaseline = (): boolean => ["", "auto", "recorder"].includes((process.env.ALERTCAP_BASELINE ?? "").trim().toLowerCase());

/**
 * Timestamps in the manifest: the wall clock, or the orchestration's clock plus the time this activity has run when
 * that is later (the local stack on a virtual clock runs ahead of the wall clock, and firedAt comes from it).
 */
const stampSince = (requestedAt: string, startedMs: number): string => new Date(Math.max(Date.now(), Date.parse(requestedAt) + (Date.now() - startedMs))).toISOString();

/**
 * Secures an incident's lookback: copies every ring file overlapping [firedAt − ALERTCAP_LOOKBACK_SECONDS, windowEnd]
 * (and the quiet window before it, for a baseline) into the incident's folder, server-side, and (re)writes
 * lookback.json there. Repeatable: files already in the manifest are not copied again, so the cut's last pass only
 * adds the files that came since the first.
 */
export async function secureLookback(input: SecureLookbackInput): Promise<SecureLookbackOutput> {
  const started = Date.now();
  const trusted = trustedTarget(input.target);
  if (!trusted.ok) throw new Error(`Refused: ${trusted.reason}`);
  const settings = recorderSettings();
  if (!settings.ok) throw new Error(settings.reason);
  if (!isIncidentId(input.incidentId)) throw new Error("Refused: the incident ID is not a capture instance ID.");
  const requestedAt = Number.isNaN(Date.parse(input.requestedAt)) ? new Date().toISOString() : new Date(input.requestedAt).toISOString();
  const firedMs = Date.parse(input.firedAt);
  // The folder is named by the alert's own time (the capture orchestration finds it from the alert alone); the window
  // ends no earlier than it, and starts lookbackSeconds before it, or before now for an alert time in the future.
  const firedAt = Number.isNaN(firedMs) ? requestedAt : new Date(firedMs).toISOString();
  const windowAnchor = Math.min(Date.parse(firedAt), Date.parse(requestedAt));
  const windowEnd = new Date(Math.max(windowAnchor, Date.parse(input.windowEnd) || Date.parse(requestedAt))).toISOString();
  const windowStart = new Date(windowAnchor - settings.settings.lookbackSeconds * 1000).toISOString();
  const folder = incidentFolder(input.incidentId, firedAt);
  const notes = (Array.isArray(input.notes) ? input.notes : []).map((n) => String(n).slice(0, 300)).slice(0, 10);

  const sessions = (Array.isArray(input.sessions) ? input.sessions : []).filter((s) => typeof s?.name === "string" && isRecorderSessionFor(s.name, trusted.target)).slice(0, 8);
  const files: RingFile[] = [];
  const folders = new Map<string, string>();
  let container: ReturnType<typeof captureContainerOf> | null = null;
  const newestClosedAt: Record<string, string | null> = {};
  for (const session of sessions) {
    newestClosedAt[session.name] = null;
    if (!session.storagePath) continue;
    let located;
    try {
      located = checkStoragePath(session.storagePath);
    } catch (error) {
      if (error instanceof StoragePathRefusedError) {
        notes.push(`The session ${session.name} reported a storagePath alertcap does not read: ${error.message}`);
        continue;
      }
      throw error;
    }
    container ??= located.container;
    folders.set(session.name, located.path.replace(/\.cap$/i, "").replace(/\/+$/, ""));
    const listed = await listRingFiles(session.storagePath, session.name);
    newestClosedAt[session.name] = listed.map((f) => f.closedAt).sort().at(-1) ?? null;
    files.push(...listed);
  }
  if (!container) {
    return { folder, manifestUrl: null, lookbackFiles: 0, baselineFiles: 0, firstSecuredAt: null, newestClosedAt, notes: [...notes, "No session of the recorder had reported where its files are."] };
  }

  const selection = selectRingFiles(files, new Date(windowStart), new Date(windowEnd), wantsRecorderBaseline() ? settings.settings.lookbackSeconds : 0);
  const manifestUrl = container.getBlobClient(`${folder}/${LOOKBACK_MANIFEST}`).url;
  // Read back from storage, which more than alertcap may write: checked like the capture side checks it (entries in
  // this incident's folder only, notes bounded), and a manifest that is not this incident's is written over.
  const read = await readLookbackManifestVersion(manifestUrl);
  const earlier = read ? parseLookbackManifest(read.manifest, input.incidentId, firedAt) : null;
  const previous = earlier === null || typeof earlier === "string" ? null : earlier;
  if (previous?.complete === true && input.complete !== true) {
    // A first pass run again after the cut's last pass (activities run at least once: a message that reappears runs
    // its step again, minutes later): the complete manifest stands.
    return { folder, manifestUrl, lookbackFiles: previous.lookback.length, baselineFiles: previous.baseline.length, firstSecuredAt: previous.firstSecuredAt, newestClosedAt, notes: previous.notes };
  }
  // What earlier passes copied, and the close time of the ring file each copy was made from.
  const copied = new Map([...(previous?.lookback ?? []), ...(previous?.baseline ?? [])].map((f) => [f.url, f.uploadedAt]));
  let firstSecuredAt = previous?.firstSecuredAt ?? null;
  const secure = async (file: RingFile, part: "lookback" | "baseline"): Promise<SecuredFile | null> => {
    const relative = ringFileRelativeName(file.blobName, folders.get(file.session) ?? "");
    let destination = `${folder}/${part}/${file.session}/${relative}`;
    let url = container!.getBlobClient(destination).url;
    const earlier = copied.get(url);
    if (earlier !== undefined && earlier !== file.closedAt) {
      // The ring rewrote this name since an earlier pass copied it (ring file names are not documented to be unique):
      // the newer packets get a copy of their own, beside the earlier one.
      destination = `${destination.replace(/\.cap$/i, "")}-${compactTime(file.closedAt)}.cap`;
      url = container!.getBlobClient(destination).url;
    }
    if (!copied.has(url)) {
      const done = await copyWithinContainer(container!, file.blobName, destination);
      if (!done) {
        notes.push(`The ring had already deleted ${relative} of ${file.session} before it could be copied.`);
        return null;
      }
      firstSecuredAt ??= stampSince(requestedAt, started);
    }
    return { url, instance: file.instance, sizeBytes: file.sizeBytes, uploadedAt: file.closedAt };
  };
  const lookback: SecuredFile[] = [];
  for (const file of selection.lookback) {
    const secured = await secure(file, "lookback");
    if (secured) lookback.push(secured);
  }
  const baseline: SecuredFile[] = [];
  for (const file of selection.baseline) {
    const secured = await secure(file, "baseline");
    if (secured) baseline.push(secured);
  }
  // Copies made by an earlier pass stay listed even once the ring has deleted their source.
  const merged = (earlier: SecuredFile[] | undefined, now: SecuredFile[]) =>
    [...(earlier ?? []).filter((f) => !now.some((n) => n.url === f.url)), ...now].sort((a, b) => a.uploadedAt.localeCompare(b.uploadedAt));
  lookback.splice(0, lookback.length, ...merged(previous?.lookback, lookback));
  baseline.splice(0, baseline.length, ...merged(previous?.baseline, baseline));
  if (lookback.length === 0 && input.complete) notes.push(`No ring file covers ${windowStart} to ${windowEnd}.`);
  const manifest: LookbackManifest = {
    incidentId: input.incidentId,
    target: trusted.target.id,
    firedAt,
    windowStart,
    windowEnd,
    baseline,
    lookback,
    firstSecuredAt,
    securedAt: lookback.length + baseline.length > 0 ? stampSince(requestedAt, started) : null,
    complete: input.complete === true,
    notes: [...new Set([...(previous?.notes ?? []), ...notes])].slice(0, 20),
  };
  // Only over the version read: a duplicate run that wrote meanwhile makes this one fail, and its retry merges again.
  await writeLookbackManifest(container, folder, manifest, read?.etag ?? null);
  return { folder, manifestUrl, lookbackFiles: lookback.length, baselineFiles: baseline.length, firstSecuredAt, newestClosedAt, notes: manifest.notes };
}

df.app.activity(SECURE_LOOKBACK, { handler: secureLookback });
