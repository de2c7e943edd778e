// Activities that talk to ARM: thin wrappers, so each step shows under its own name in durable history and in the
// portal's function monitor. The work is in azure/packetCaptures.ts. Each wrapper first re-derives what it acts on
// from the target ID and the app settings (activities/trustedTarget.ts): the orchestration input is not trusted.
import * as df from "durable-functions";
import {
  createPacketCapture,
  deletePacketCapture,
  getPacketCapture,
  installNetworkWatcherAgent,
  locateCaptureFile,
  networkWatcherAgentState,
  queryPacketCapture,
  stopPacketCapture,
  validateCaptureTarget,
} from "../azure/packetCaptures.js";
import { isCaptureNameFor, packetCaptureBody } from "../domain/capture/plan.js";
import { storageAccountFor } from "../domain/capture/settings.js";
import {
  AGENT_STATE,
  type AgentState,
  type CaptureRef,
  CREATE_CAPTURE,
  type CreateCaptureInput,
  type CreateCaptureOutput,
  DELETE_CAPTURE,
  GET_CAPTURE,
  INSTALL_AGENT,
  type InstallAgentOutput,
  LOCATE_CAPTURE_FILE,
  type LocateFileInput,
  QUERY_CAPTURE,
  STOP_CAPTURE,
  type TargetStepInput,
  VALIDATE_TARGET,
  type ValidateTargetOutput,
} from "./contracts.js";
import { RefusedStepError, trustedCaptureRef, trustedTarget } from "./trustedTarget.js";

df.app.activity(VALIDATE_TARGET, {
  handler: async ({ target }: TargetStepInput): Promise<ValidateTargetOutput> => {
    const trusted = trustedTarget(target);
    if (!trusted.ok) return trusted;
    return validateCaptureTarget(trusted.target, trusted.settings);
  },
});

df.app.activity(INSTALL_AGENT, {
  handler: async ({ target }: TargetStepInput): Promise<InstallAgentOutput> => {
    const trusted = trustedTarget(target);
    if (!trusted.ok) return trusted;
    if (!trusted.settings.installAgent) {
      return { ok: false, reason: `The Network Watcher agent is not installed on ${trusted.target.name}, and ALERTCAP_INSTALL_AGENT does not allow alertcap to install it.` };
    }
    return installNetworkWatcherAgent(trusted.target);
  },
});

df.app.activity(AGENT_STATE, {
  handler: async ({ target }: TargetStepInput): Promise<AgentState> => {
    const trusted = trustedTarget(target);
    if (!trusted.ok) return { state: "failed", reason: trusted.reason };
    return networkWatcherAgentState(trusted.target);
  },
});

df.app.activity(CREATE_CAPTURE, {
  handler: async (input: CreateCaptureInput): Promise<CreateCaptureOutput> => {
    const trusted = trustedTarget(input.target);
    if (!trusted.ok) return trusted;
    if (input.watcher?.subscriptionId?.toLowerCase() !== trusted.target.subscriptionId.toLowerCase()) {
      return { ok: false, reason: `The Network Watcher named is not in the target's subscription ${trusted.target.subscriptionId}.` };
    }
    // The storage account, limits and filters come from the app settings; the region only picks among the accounts.
    const storageAccountId = storageAccountFor(trusted.settings, String(input.location));
    if (!storageAccountId) {
      return {
        ok: false,
        reason: `No capture storage account is configured for region ${input.location}: Network Watcher needs one in the target's region (ALERTCAP_CAPTURE_STORAGE_ID, e.g. "${input.location}=/subscriptions/…/storageAccounts/…").`,
      };
    }
    return createPacketCapture({
      watcher: { ...input.watcher, subscriptionId: trusted.target.subscriptionId },
      // Only names alertcap gives this target: a crafted name must not reach someone else's capture.
      candidateNames: (Array.isArray(input.candidateNames) ? input.candidateNames : []).slice(0, 5).filter((name) => typeof name === "string" && isCaptureNameFor(name, trusted.target)),
      body: packetCaptureBody(trusted.target, trusted.settings, storageAccountId),
      notBefore: String(input.notBefore),
    });
  },
});

df.app.activity(GET_CAPTURE, { handler: (input: CaptureRef) => withRef(input, (ref) => getPacketCapture(ref.watcher, ref.captureName)) });
df.app.activity(QUERY_CAPTURE, { handler: (input: CaptureRef) => withRef(input, (ref) => queryPacketCapture(ref.watcher, ref.captureName)) });
df.app.activity(STOP_CAPTURE, { handler: (input: CaptureRef) => withRef(input, (ref) => stopPacketCapture(ref.watcher, ref.captureName)) });
df.app.activity(DELETE_CAPTURE, { handler: (input: CaptureRef) => withRef(input, (ref) => deletePacketCapture(ref.watcher, ref.captureName)) });
df.app.activity(LOCATE_CAPTURE_FILE, {
  handler: (input: LocateFileInput) => withRef(input, (ref) => locateCaptureFile(ref.watcher, ref.captureName, typeof input.knownStoragePath === "string" ? input.knownStoragePath : null)),
});

/** Runs `step` on the re-derived reference; a refused one fails the activity with the sentence that says why. */
async function withRef<T>(input: CaptureRef, step: (ref: CaptureRef) => Promise<T>): Promise<T> {
  let ref: CaptureRef;
  try {
    ref = trustedCaptureRef(input);
  } catch (error) {
    if (error instanceof RefusedStepError) throw new Error(`Refused: ${error.message}`);
    throw error;
  }
  return step(ref);
}
