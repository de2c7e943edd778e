// One line per event, readable while following a run: `12:00:01.234 [http] POST /api/alerts -> 202 (3 ms)`.
// Everything goes through redactSecrets first: function keys travel in `code=` query strings and SAS tokens in
// `sig=`, and neither may ever reach a log.

const SECRET_QUERY = /([?&](?:code|sig|key|token|access_token)=)[^&#\s"']*/gi;
const SECRET_HEADER = /((?:x-functions-key|authorization)["']?\s*[:=]\s*["']?)(?:Bearer\s+)?[^\s"',}]+/gi;

/** The host's own keys, wherever they appear (a path segment, an error's `input`, a stack), not only after `code=`. */
const knownSecrets = new Set<string>();

export function registerSecret(value: string): void {
  if (value.length < 8) return;
  knownSecrets.add(value);
  knownSecrets.add(encodeURIComponent(value));
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join("***");
  return out.replace(SECRET_QUERY, "$1***").replace(SECRET_HEADER, "$1***");
}

export type LogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";

export interface HostLogger {
  log(source: string, message: string, level?: LogLevel): void;
}

export function consoleLogger(options: { quiet?: boolean } = {}): HostLogger {
  return {
    log(source, message, level = "information") {
      if (options.quiet && level !== "error" && level !== "critical" && level !== "warning") return;
      const time = new Date().toISOString().slice(11, 23);
      const line = `${time} [${source}] ${redactSecrets(message)}`;
      if (level === "error" || level === "critical") console.error(line);
      else console.log(line);
    },
  };
}
