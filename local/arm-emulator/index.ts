// Entry point for code that starts the emulator (the local stack, tests, scripts).

export {
  CERTIFICATE_FILE_NAME,
  startArmEmulator,
  type ArmEmulator,
  type ArmEmulatorOptions,
  type CaptureSnapshot,
  type EmulatorTimings,
  type FiredFault,
  type MonitorResourceSnapshot,
  type RequestLogEntry,
  type StoredCaptureFile,
} from "./armEmulator.js";
export { armEmulatorOptionsFromEnv, DEFAULT_TIMINGS } from "./options.js";
export type { InventoryDocument } from "./inventory.js";
export type { FaultPlanDocument } from "./faults.js";
