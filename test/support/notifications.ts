// The notifications a test receiver got about one target (generic format: `data.target` names it).
import type { Receiver } from "./receiver.js";

export function notificationsFor<T extends { data: { target: string } }>(receiver: Receiver, target: string): T[] {
  return receiver.received.map((r) => r.json as T).filter((n) => n?.data?.target?.toLowerCase() === target.toLowerCase());
}
