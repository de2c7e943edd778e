import { createHash } from "node:crypto";
import type { CaptureTarget, CaptureTargetKind } from "./armId.js";

// One capture per target at a time is enforced by the Durable singleton pattern: the orchestration instance ID is
// derived from the target alone, so every alert about the same machine lands on the same instance. The readable
// part helps people find a capture in the portal; the hash of the whole lower-cased ID is what makes two targets
// with similar names (vm-1 in two resource groups, or names that differ only in characters replaced below) distinct.

const MAX_INSTANCE_ID_LENGTH = 100;
const HASH_HEX_LENGTH = 12;

const KIND_PREFIX: Record<CaptureTargetKind, string> = {
  virtualMachine: "cap-vm",
  virtualMachineScaleSet: "cap-vmss",
  virtualMachineScaleSetInstance: "cap-vmssvm",
};

/** Deterministic Durable instance ID for a capture target, e.g. `cap-vm-web01-3f2a9c1b7d4e`. */
export function captureInstanceId(target: CaptureTarget): string {
  const hash = createHash("sha256").update(target.key).digest("hex").slice(0, HASH_HEX_LENGTH);
  const prefix = KIND_PREFIX[target.kind];
  const names = target.instanceId === undefined ? [target.name] : [target.name, target.instanceId];
  const readableBudget = MAX_INSTANCE_ID_LENGTH - prefix.length - hash.length - 2;
  const readable = names.map(safeForInstanceId).join("-").slice(0, readableBudget).replace(/-+$/, "");
  return readable === "" ? `${prefix}-${hash}` : `${prefix}-${readable}-${hash}`;
}

// Durable Functions forbids / \ # ? and control characters in instance IDs, and the IDs also end up in Azure
// Storage keys and URLs; keeping to [a-z0-9._-] sidesteps every such rule.
function safeForInstanceId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}
