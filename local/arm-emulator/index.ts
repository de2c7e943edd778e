// Entry point for code that starts the emulator (the local stack, tests, scripts).

export {
  CERTIFICATE_FILE_NAME,
  startArmEmulator,
  type ArmEmulator,
  type ArmEmulatorOptions,
  type CaptureSnapshot,
  type EmulatorClock,
  type EmulatorTimings,
  type FiredFault,
  type MonitorResourceSnapshot,
  type RequestLogEntry,
  type RingFile,
  type StoredCaptureFile,
  type TrafficChoice,
} from "./armEmulator.js";
export { failingFromProfile, failingProfile, healthyProfile, steadyProfile, type TrafficProfile } from "../traffic/profile.js";
export { armEmulatorOptionsFromEnv, DEFAULT_TIMINGS } from "./options.js";
export type { InventoryDocument } from "./inventory.js";
export type { FaultPlanDocument } from "./faults.js";
