// What the two local launchers (`npm start`, `npm run start:emulators`) share: stopping every child on a signal, and
// reading port settings.
import { stopAllServices } from "./services.js";

export interface StopRequest {
  /** Whether a signal (or the end of the parent npm) asked this process to stop. */
  readonly requested: boolean;
  /** Settles never: the process exits once every child has stopped. */
  readonly done: Promise<never>;
}

/**
 * From now on, SIGINT, SIGTERM or SIGHUP stops every service this process started, those still starting included,
 * and exits 0 without a stack trace; a second signal kills them at once. Run by npm, the process also stops when its
 * parent ends: npm forwards SIGTERM only to the `sh -c` it runs the script in, and sh dies without passing it on.
 */
export function stopOnSignals(): StopRequest {
  let requested = false;
  // Output after the terminal or the parent's pipe is gone must not crash the shutdown with EPIPE.
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  const stop = (why: string): void => {
    if (requested) {
      void stopAllServices("SIGKILL").then(() => process.exit(0));
      return;
    }
    requested = true;
    console.log(`alertcap: ${why}, stopping every service`);
    void stopAllServices().then(() => process.exit(0));
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(`${signal} received`));
  if (process.env.npm_lifecycle_event) {
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      stop("npm ended");
    }, 250).unref();
  }
  return {
    get requested() {
      return requested;
    },
    done: new Promise<never>(() => {}),
  };
}

/** An integer port from the environment (0: a free one), or a one-line error and exit 2. */
export function portFromEnv(setting: string, fallback: number): number {
  const value = process.env[setting];
  const port = value === undefined || value === "" ? fallback : Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  console.error(`alertcap: ${setting} must be an integer from 0 to 65535, got '${value}'`);
  process.exit(2);
}
