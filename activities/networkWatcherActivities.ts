// Activities that talk to ARM: thin wrappers, so each step shows under its own name in durable history and in the
// portal's function monitor. The work is in azure/packetCaptures.ts.
import * as df from "durable-functions";
import {
  createPacketCapture,
  deletePacketCapture,
  locateCaptureFile,
  queryPacketCapture,
  stopPacketCapture,
  validateCaptureTarget,
} from "../azure/packetCaptures.js";
import {
  type CaptureRef,
  CREATE_CAPTURE,
  type CreateCaptureInput,
  DELETE_CAPTURE,
  LOCATE_CAPTURE_FILE,
  QUERY_CAPTURE,
  STOP_CAPTURE,
  VALIDATE_TARGET,
  type ValidateTargetInput,
} from "./contracts.js";

df.app.activity(VALIDATE_TARGET, { handler: (input: ValidateTargetInput) => validateCaptureTarget(input) });
df.app.activity(CREATE_CAPTURE, { handler: (input: CreateCaptureInput) => createPacketCapture(input) });
df.app.activity(QUERY_CAPTURE, { handler: (input: CaptureRef) => queryPacketCapture(input) });
df.app.activity(STOP_CAPTURE, { handler: (input: CaptureRef) => stopPacketCapture(input) });
df.app.activity(DELETE_CAPTURE, { handler: (input: CaptureRef) => deletePacketCapture(input) });
df.app.activity(LOCATE_CAPTURE_FILE, { handler: (input: CaptureRef) => locateCaptureFile(input) });
