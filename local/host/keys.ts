// Host keys as Azure keeps them: a default function key, the master key (admin level, also opens everything), and
// the Durable extension's system key (`durabletask_extension`) for /runtime/webhooks/durabletask. Generated keys are
// stored under the data directory so a restarted host keeps them, as Azure's host secrets do.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface HostKeys {
  functionKey: string;
  masterKey: string;
  systemKey: string;
}

export type AuthLevel = "anonymous" | "function" | "admin" | "system";

const newKey = (): string => randomBytes(30).toString("base64url");

export function loadOrCreateKeys(dataDir: string, functionKeyOverride: string | undefined): HostKeys {
  const path = join(dataDir, "host-keys.json");
  let stored: Partial<HostKeys> = {};
  if (existsSync(path)) stored = JSON.parse(readFileSync(path, "utf8")) as Partial<HostKeys>;
  const keys: HostKeys = {
    functionKey: stored.functionKey ?? newKey(),
    masterKey: stored.masterKey ?? newKey(),
    systemKey: stored.systemKey ?? newKey(),
  };
  if (stored.functionKey !== keys.functionKey || stored.masterKey !== keys.masterKey || stored.systemKey !== keys.systemKey) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, JSON.stringify(keys), { mode: 0o600 });
  }
  return functionKeyOverride ? { ...keys, functionKey: functionKeyOverride } : keys;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether `presented` (from `x-functions-key` or `code`) opens an endpoint of `level`. The master key opens all. */
export function isAuthorized(level: AuthLevel, presented: string | undefined, keys: HostKeys): boolean {
  if (level === "anonymous") return true;
  if (!presented) return false;
  if (same(presented, keys.masterKey)) return true;
  if (level === "function") return same(presented, keys.functionKey);
  if (level === "system") return same(presented, keys.systemKey);
  return false;
}
