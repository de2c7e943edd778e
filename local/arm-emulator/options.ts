// Options of `startArmEmulator`, their defaults, and how the standalone entry reads them from the environment.

import type { FaultPlanDocument } from "./faults.js";
import type { InventoryDocument } from "./inventory.js";
import type { PacketSourceMode } from "./capture/recorder.js";
import type { FailedSessionStyle } from "./capture/sessions.js";
import type { EmulatorClock } from "./capture/sessionTime.js";
import type { TrafficChoice } from "./trafficProfiles.js";

/** Service-side durations in seconds of emulated time (divided by `speedFactor`). Defaults follow the recordings. */
export interface EmulatorTimings {
  /** PUT capture → create operation Succeeded (recorded 1 s and ~12 s). */
  createSeconds: number;
  /** PUT capture → session Running (captureStartTime was 1–4 s after the PUT). */
  captureStartSeconds: number;
  /** queryStatus on a running session: the Location answers 202 until this has passed (recorded ~11 s, R2). */
  queryStatusSeconds: number;
  /** Stop operation duration (recorded 10–12 s). */
  stopSeconds: number;
  /** Delete operation duration (recorded 10–12 s). */
  deleteSeconds: number;
  /** VM extension PUT → Succeeded. */
  extensionInstallSeconds: number;
  /** Session end → blob visible in storage ("might not immediately appear"). */
  blobUploadDelaySeconds: number;
}

export const DEFAULT_TIMINGS: EmulatorTimings = {
  createSeconds: 2,
  captureStartSeconds: 1,
  queryStatusSeconds: 10,
  stopSeconds: 10,
  deleteSeconds: 10,
  extensionInstallSeconds: 20,
  blobUploadDelaySeconds: 2,
};

export type ScaleSetStoragePathForm = "cap" | "folder";

export interface ArmEmulatorOptions {
  /** Port on 127.0.0.1; 0 or absent = a free port. */
  port?: number;
  /**
   * The alertcap data directory: the certificate is written to `{dataDir}/arm-emulator-cert.pem`, its key and the
   * recordings under `{dataDir}/arm-emulator/`. Default: a new temporary directory.
   */
  dataDir?: string;
  /** The inventory (parsed document) or the path of its JSON file. Default: empty. */
  inventory?: InventoryDocument | string;
  /** The fault plan (parsed document), inline JSON text, or a file path. Default: no faults. */
  faults?: FaultPlanDocument | string;
  /** Connection string of the Blob storage (Azurite) that receives capture files; without it files stay local. */
  blobConnectionString?: string;
  /** Divides every emulated duration: 1 = the real service's pace, 50 = fifty times faster. Default 1. */
  speedFactor?: number;
  /** Overrides of individual durations (service seconds, before the speed factor). */
  timings?: Partial<EmulatorTimings>;
  /** `auto` (default): tcpdump if it can record, else synthetic pcaps. */
  packetSource?: PacketSourceMode;
  tcpdumpPath?: string;
  /** Interface tcpdump records on. Default `lo`. */
  captureInterface?: string;
  /** Running sessions per subscription and region unless the inventory's `regionLimits` says otherwise. Default 10000. */
  regionCaptureLimit?: number;
  /** `stopReason` when `totalBytesPerSession` ends a session. The real value is unknown; default: none. */
  byteLimitStopReason?: string;
  /** How a session that cannot run (VM stopped, no agent) reports. Default `{ status: "Stopped", errors: "freeText" }`. */
  failedSession?: Partial<FailedSessionStyle>;
  /**
   * The `storagePath` a scale-set capture reports: `"cap"` (default) `…/packetcapture_{time}.cap`, as the service's own
   * answer prints it in Az.Network's New-AzNetworkWatcherPacketCaptureV2 example 2; `"folder"` the same path without
   * `.cap` (the 2022 VMSS doc's form). Either way the instance files lie in the folder `…/packetcapture_{time}/`.
   */
  scaleSetStoragePath?: ScaleSetStoragePathForm;
  /** Add recorded-but-unspecified response fields (`storagePathFileName`, `queryPacketCaptureLastOperationId`). */
  undocumentedFields?: boolean;
  /**
   * `Retry-After` of long-running answers in service seconds (divided by `speedFactor`, rounded to whole seconds).
   * Default 10, as recorded. Always sent: a client that ignores it polls faster than Azure lets it.
   */
  lroRetryAfterSeconds?: number;
  /**
   * Save captures, operations and VM changes to `{dataDir}/arm-emulator/state.json` and restore them at the next
   * start (running sessions carry on recording). Default false; the standalone emulator turns it on.
   */
  persistState?: boolean;
  /** Reuse a still-valid certificate found in `dataDir` instead of generating a new one. Default true. */
  reuseCertificate?: boolean;
  /** Where diagnostics go. Default: stderr. */
  log?: (line: string) => void;
  /**
   * The clock capture sessions follow (the local host's `Clock`, e.g. a `VirtualClock`): time limits, continuous
   * capture rotations, creation times and packet timestamps; service seconds are then this clock's seconds (not
   * divided by `speedFactor`) and packets are synthetic. Default: real time. Operation latencies stay real.
   */
  clock?: EmulatorClock;
  /**
   * Traffic of chosen machines (VM, scale set, or `{vmss}/virtualMachines/{id}` IDs): `"steady"` (default),
   * `"healthy"`, `"failing"`, `{ failingFrom: Date }` or any `TrafficProfile`. Wins over the inventory's `traffic`.
   */
  trafficProfiles?: Record<string, TrafficChoice>;
}

/** Reads the options the standalone emulator takes from the environment (see README). */
export function armEmulatorOptionsFromEnv(env: NodeJS.ProcessEnv, defaultDataDir: string): ArmEmulatorOptions {
  const options: ArmEmulatorOptions = { dataDir: env["ALERTCAP_DATA_DIR"] || defaultDataDir, persistState: true };
  const port = env["ALERTCAP_ARM_PORT"];
  if (port) options.port = parseInteger("ALERTCAP_ARM_PORT", port, 0, 65535);
  const inventory = env["ALERTCAP_EMULATOR_INVENTORY"];
  if (inventory) options.inventory = inventory;
  const faults = env["ALERTCAP_EMULATOR_FAULTS"];
  if (faults) options.faults = faults;
  const blob = env["ALERTCAP_EMULATOR_BLOB_CONNECTION"];
  if (blob) options.blobConnectionString = blob;
  const speed = env["ALERTCAP_EMULATOR_SPEED"];
  if (speed) {
    const value = Number(speed);
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`ALERTCAP_EMULATOR_SPEED must be a positive number, got '${speed}'`);
    options.speedFactor = value;
  }
  const source = env["ALERTCAP_EMULATOR_PACKET_SOURCE"];
  if (source) {
    if (source !== "auto" && source !== "tcpdump" && source !== "synthetic") {
      throw new Error(`ALERTCAP_EMULATOR_PACKET_SOURCE must be auto, tcpdump or synthetic, got '${source}'`);
    }
    options.packetSource = source;
  }
  const scaleSetPath = env["ALERTCAP_EMULATOR_VMSS_STORAGE_PATH"];
  if (scaleSetPath) {
    if (scaleSetPath !== "cap" && scaleSetPath !== "folder") throw new Error(`ALERTCAP_EMULATOR_VMSS_STORAGE_PATH must be cap or folder, got '${scaleSetPath}'`);
    options.scaleSetStoragePath = scaleSetPath;
  }
  return options;
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return parsed;
}
