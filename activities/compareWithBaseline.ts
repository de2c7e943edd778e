// What changed: the incident's capture against the baseline ALERTCAP_BASELINE chooses (the recorder's quiet window,
// or the last completed capture on the same target), read where they lie in Blob storage and diffed with
// domain/diff. A baseline that is missing or unreadable never fails the capture: the answer says why there was none.
// Also records each completed capture as its target's last one, for the next capture to compare with.
import * as df from "durable-functions";
import { type CaptureFile, listCaptureFiles, openListedCaptureFile } from "../azure/captureFiles.js";
import { type LastCapture, readLastCapture, writeLastCapture } from "../azure/baselineIndex.js";
import { readIncidentManifest } from "../azure/lookbackManifest.js";
import { chooseBaseline, parseBaselineSetting, type SourceState, unavailableLine, whatChangedLines } from "../domain/diff/baselineChoice.js";
import { scaleSetDiff, type SideProfiles } from "../domain/diff/scaleSetDiff.js";
import { analyzeInstances, type InstanceSource } from "../domain/pcap/analyzeInstances.js";
import type { LookbackManifest } from "../domain/recorder/plan.js";
import {
  type BaselineSummary,
  COMPARE_WITH_BASELINE,
  type CompareInput,
  type CompareOutput,
  RECORD_LAST_CAPTURE,
  type RecordLastCaptureInput,
} from "./baselineContracts.js";

/** As `alertcap diff`: longer per-server and per-host lists than a report's top 10. */
const TOP_N = 64;
const SUMMARY_FINDINGS = 5;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300);

/** A side's files, opened through the checked capture-file reader. */
async function sourcesAt(storagePath: string): Promise<Array<InstanceSource & { file: CaptureFile }>> {
  const files = await listCaptureFiles(storagePath);
  return files.map((file) => ({ file, instance: file.instance ?? file.blobName, open: () => openListedCaptureFile(storagePath, file) }));
}

/** The files as one capture and (for a scale set's folder) per instance. Throws with why when none can be read. */
async function profiles(sources: Array<InstanceSource & { file: CaptureFile }>, perInstance: boolean, what: string): Promise<SideProfiles> {
  if (sources.length === 0) throw new Error(`${what} is no longer stored`);
  const analysis = await analyzeInstances(sources, { topN: TOP_N, profiles: true });
  if (!analysis.mergedProfile) throw new Error(`${what} could not be analysed: ${analysis.instances[0]?.error ?? "no readable file"}`);
  const instances = perInstance ? analysis.instances.flatMap((i) => (i.profile ? [{ instance: i.instance, profile: i.profile }] : [])) : [];
  return { merged: analysis.mergedProfile, instances };
}

const isScaleSetFolder = (sources: Array<{ file: CaptureFile }>): boolean => sources.some((s) => s.file.instance !== null);

const minute = (iso: string | null): string => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "an unknown time");

async function recorderState(input: CompareInput): Promise<{ state: SourceState; manifest: LookbackManifest | null }> {
  if (!input.firedAt) return { state: { state: "absent", why: "the alert carries no firing time to find the recorder's files by" }, manifest: null };
  try {
    const manifest = await readIncidentManifest(input.storagePath, input.instanceId, input.firedAt);
    if (typeof manifest === "string") throw new Error(manifest);
    if (!manifest) return { state: { state: "absent", why: "no recorder secured files for this alert: none is armed on the target, or it was not told" }, manifest };
    if (manifest.baseline.length === 0) {
      const why = manifest.notes.length > 0 ? `: ${manifest.notes.join("; ")}` : "";
      return { state: { state: "absent", why: `the recorder's ring held no quiet window before the lookback${why}` }, manifest };
    }
    return { state: { state: "found" }, manifest };
  } catch (error) {
    return { state: { state: "unusable", why: `the recorder's lookback manifest could not be read: ${message(error)}` }, manifest: null };
  }
}

async function lastCaptureState(input: CompareInput): Promise<{ state: SourceState; last: LastCapture | null }> {
  try {
    const last = await readLastCapture(input.storagePath, input.instanceId, input.target.id);
    if (!last || last.storagePath === input.storagePath.split("?")[0]) return { state: { state: "absent", why: "no earlier completed capture of this target is recorded" }, last: null };
    return { state: { state: "found" }, last };
  } catch (error) {
    return { state: { state: "unusable", why: `the record of the last capture on this target could not be read: ${message(error)}` }, last: null };
  }
}

function emptySummary(mode: string | null, unavailable: string | null): BaselineSummary {
  return { mode, source: null, label: null, location: null, unavailable, newTalkerCount: 0, goneTalkerCount: 0, newServiceCount: 0, goneServiceCount: 0, significantRateChanges: 0, findings: [] };
}

export async function compareWithBaseline(input: CompareInput): Promise<CompareOutput> {
  const setting = parseBaselineSetting(process.env.ALERTCAP_BASELINE);
  if ("problem" in setting) return { lines: [unavailableLine(setting.problem)], summary: emptySummary(null, setting.problem) };
  const { mode } = setting;
  if (mode === "none") return { lines: [], summary: emptySummary(mode, null) };
  const recorder = mode === "last-capture" ? { state: { state: "absent", why: "" } as SourceState, manifest: null } : await recorderState(input);
  const last = mode === "recorder" ? { state: { state: "absent", why: "" } as SourceState, last: null } : await lastCaptureState(input);
  const choice = chooseBaseline(mode, recorder.state, last.state);
  if (choice.source === null) return { lines: choice.unavailable ? [unavailableLine(choice.unavailable)] : [], summary: emptySummary(mode, choice.unavailable) };

  let label: string;
  let location: string;
  let baseline: SideProfiles;
  let incident: SideProfiles;
  try {
    const incidentSources = await sourcesAt(input.storagePath);
    if (choice.source === "last-capture") {
      const record = last.last!;
      label = `the last capture on this target (${minute(record.startedAt ?? record.alertFiredAt)})`;
      location = record.storagePath;
      const baselineSources = await sourcesAt(record.storagePath);
      // Instance by instance only when both are a scale set's folders; otherwise each side as one capture.
      const perInstance = isScaleSetFolder(baselineSources) && isScaleSetFolder(incidentSources);
      baseline = await profiles(baselineSources, perInstance, `the last capture's file at ${record.storagePath}`);
      incident = await profiles(incidentSources, perInstance, "this capture");
    } else {
      const files = recorder.manifest!.baseline;
      const first = [...files].sort((a, b) => a.uploadedAt.localeCompare(b.uploadedAt))[0]!;
      label = `the recorder's quiet window (${minute(first.uploadedAt)} to ${minute(recorder.manifest!.windowStart)})`;
      location = `${files.length} ring file${files.length === 1 ? "" : "s"} in the incident's folder`;
      // Ring files follow one another in time: all of them are one capture (per-instance rings are merged too).
      const sources = (await Promise.all(files.map((f) => sourcesAt(f.url)))).flat();
      baseline = await profiles(sources, false, "the recorder's quiet-window files");
      incident = await profiles(incidentSources, false, "this capture");
    }
  } catch (error) {
    const why = message(error);
    return { lines: [unavailableLine(why)], summary: emptySummary(mode, why) };
  }

  const diff = scaleSetDiff(baseline, incident);
  // The analysis already names the instances that differ from their siblings: here only what changed over time.
  const siblingLines = new Set(diff.siblings?.findings ?? []);
  const findings = diff.findings.filter((f) => !siblingLines.has(f));
  return {
    lines: whatChangedLines(label, findings),
    summary: {
      mode,
      source: choice.source,
      label,
      location,
      unavailable: null,
      newTalkerCount: diff.newTalkerCount,
      goneTalkerCount: diff.goneTalkerCount,
      newServiceCount: diff.newServiceCount,
      goneServiceCount: diff.goneServiceCount,
      significantRateChanges: diff.rateChanges.filter((c) => c.significant).length,
      findings: findings.slice(0, SUMMARY_FINDINGS),
    },
  };
}

/** Records the capture as its target's last completed one (its storagePath without a query: never a SAS). */
export async function recordLastCapture(input: RecordLastCaptureInput): Promise<void> {
  await writeLastCapture({
    version: 1,
    target: input.target.id,
    instanceId: input.instanceId,
    captureName: input.captureName,
    storagePath: input.storagePath.split("?")[0]!,
    startedAt: input.startedAt,
    stoppedAt: input.stoppedAt,
    alertFiredAt: input.alertFiredAt,
  });
}

df.app.activity(COMPARE_WITH_BASELINE, { handler: compareWithBaseline });
df.app.activity(RECORD_LAST_CAPTURE, { handler: recordLastCapture });
