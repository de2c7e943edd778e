// Capture settings, parsed once from app settings (environment) into a typed object. The webhook reads them and
// hands them to the orchestration as input: orchestrator code never reads the environment (it must replay the same).
// Secrets (notification URLs) are not here: only the notify activity reads them, so they never enter durable state.
import { z } from "zod";

const UINT32_MAX = 4294967295;

/** A Network Watcher capture filter (PacketCaptureFilter): protocol plus optional address/port value, range or list. */
export const captureFilterSchema = z
  .object({
    protocol: z.enum(["TCP", "UDP", "Any"]).default("Any"),
    localIPAddress: z.string().max(200).optional(),
    remoteIPAddress: z.string().max(200).optional(),
    localPort: z.string().max(200).optional(),
    remotePort: z.string().max(200).optional(),
  })
  .strict();

export type CaptureFilter = z.infer<typeof captureFilterSchema>;

/** An app setting holding a whole number in [min, max], `fallback` when unset or empty. */
export const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return n;
    });

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      ctx.addIssue({ code: "custom", message: `must be true or false, got "${value}"` });
      return z.NEVER;
    });

const STORAGE_ACCOUNT_ID = /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[\w.()-]{1,90}\/providers\/Microsoft\.Storage\/storageAccounts\/[a-z0-9]{3,24}$/i;

const envSchema = z.object({
  ALERTCAP_CAPTURE_SECONDS: int(1, 18000, 600),
  ALERTCAP_POLL_SECONDS: int(1, 3600, 30),
  ALERTCAP_BYTES_PER_PACKET: int(0, UINT32_MAX, 0),
  ALERTCAP_TOTAL_BYTES: int(0, UINT32_MAX, 1073741824),
  ALERTCAP_STOP_GRACE_SECONDS: int(0, 3600, 120),
  ALERTCAP_FILE_WAIT_SECONDS: int(0, 7200, 600),
  ALERTCAP_MAX_CAPTURES_PER_REGION: int(1, 10000, 10000),
  ALERTCAP_COOLDOWN_SECONDS: int(0, 86400, 900),
  ALERTCAP_INSTALL_AGENT: bool(false),
  ALERTCAP_DELETE_CAPTURE: bool(true),
  ALERTCAP_CAPTURE_STORAGE_ID: z
    .string({ error: "is required: the ARM ID of the storage account Network Watcher writes captures to" })
    .transform((value, ctx) => {
      const accounts: CaptureStorageAccount[] = [];
      for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
        const [, region, id] = /^(?:([a-z0-9]+)=)?(.*)$/i.exec(entry) ?? [];
        if (!id || !STORAGE_ACCOUNT_ID.test(id)) {
          ctx.addIssue({ code: "custom", message: `entry "${entry.slice(0, 200)}" must be a storage account ARM ID, optionally prefixed by its region ("northeurope=/subscriptions/…")` });
          return z.NEVER;
        }
        accounts.push({ region: region ? region.toLowerCase() : null, id });
      }
      if (accounts.length === 0) {
        ctx.addIssue({ code: "custom", message: "must name at least one storage account" });
        return z.NEVER;
      }
      return accounts;
    }),
  ALERTCAP_CAPTURE_FILTERS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array of Network Watcher filters" });
        return z.NEVER;
      }
      const filters = z.array(captureFilterSchema).max(20).safeParse(parsed);
      if (!filters.success) {
        ctx.addIssue({ code: "custom", message: `is not a valid filter list: ${z.prettifyError(filters.error)}` });
        return z.NEVER;
      }
      return filters.data;
    }),
});

/** Network Watcher writes to a storage account in the target's region: one per region, or one default. */
export interface CaptureStorageAccount {
  region: string | null;
  id: string;
}

export interface CaptureSettings {
  timeLimitSeconds: number;
  pollSeconds: number;
  bytesToCapturePerPacket: number;
  totalBytesPerSession: number;
  stopGraceSeconds: number;
  fileWaitSeconds: number;
  maxCapturesPerRegion: number;
  cooldownSeconds: number;
  installAgent: boolean;
  deleteCaptureWhenDone: boolean;
  storageAccounts: CaptureStorageAccount[];
  filters: CaptureFilter[];
}

export type SettingsResult = { ok: true; settings: CaptureSettings } | { ok: false; errors: string[] };

export function parseCaptureSettings(env: Record<string, string | undefined>): SettingsResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`) };
  }
  const e = parsed.data;
  return {
    ok: true,
    settings: {
      timeLimitSeconds: e.ALERTCAP_CAPTURE_SECONDS,
      pollSeconds: e.ALERTCAP_POLL_SECONDS,
      bytesToCapturePerPacket: e.ALERTCAP_BYTES_PER_PACKET,
      totalBytesPerSession: e.ALERTCAP_TOTAL_BYTES,
      stopGraceSeconds: e.ALERTCAP_STOP_GRACE_SECONDS,
      fileWaitSeconds: e.ALERTCAP_FILE_WAIT_SECONDS,
      maxCapturesPerRegion: e.ALERTCAP_MAX_CAPTURES_PER_REGION,
      cooldownSeconds: e.ALERTCAP_COOLDOWN_SECONDS,
      installAgent: e.ALERTCAP_INSTALL_AGENT,
      deleteCaptureWhenDone: e.ALERTCAP_DELETE_CAPTURE,
      storageAccounts: e.ALERTCAP_CAPTURE_STORAGE_ID,
      filters: e.ALERTCAP_CAPTURE_FILTERS,
    },
  };
}

/** The account for captures in `region`: the one named for the region, else the one without a region. */
export function storageAccountFor(settings: Pick<CaptureSettings, "storageAccounts">, region: string): string | null {
  const wanted = region.toLowerCase().replace(/\s+/g, "");
  return (settings.storageAccounts.find((a) => a.region === wanted) ?? settings.storageAccounts.find((a) => a.region === null))?.id ?? null;
}
