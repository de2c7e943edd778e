// Which api-versions ARM routes to the emulated Microsoft.Network resource provider. ARM refuses any other
// well-formed version before the provider sees the request: 400 `NoRegisteredProviderFound`, "No registered resource
// provider found for location '…' and API version '…' for type '…'. The supported api-versions are '…'. The
// supported locations are '…'." (the wording Azure/azure-cli#28496 and Azure/azure-sdk-for-python#32029 quote;
// HTTP 400 per Azure/azure-cli#27154). Compute and Insights keep accepting any well-formed version.

import { ArmError } from "./armErrors.js";

/**
 * Microsoft.Network api-versions: the provider registration recorded in R3 (2023, up to 2023-04-01) plus the
 * releases since, up to 2026-01-01 (what @azure/arm-network 39 sends).
 */
export const NETWORK_API_VERSIONS: readonly string[] = [
  "2014-12-01-preview", "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-06-01", "2016-07-01", "2016-08-01",
  "2016-09-01", "2016-10-01", "2016-11-01", "2016-12-01", "2017-03-01", "2017-04-01", "2017-06-01", "2017-08-01",
  "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01", "2018-03-01", "2018-04-01", "2018-05-01",
  "2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01",
  "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-01-01", "2020-03-01",
  "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01", "2021-01-01", "2021-02-01",
  "2021-03-01", "2021-04-01", "2021-05-01", "2021-06-01", "2021-08-01", "2021-12-01", "2022-01-01", "2022-05-01",
  "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01",
  "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01",
  "2025-05-01", "2026-01-01",
];

const SUPPORTED = new Set(NETWORK_API_VERSIONS.map((version) => version.toLowerCase()));

export interface ApiVersionContext {
  /** Region of the resource the path names (a network watcher), if the emulator knows it. */
  locationOf(path: string): string | undefined;
  /** Regions the provider is offered in (for the message). */
  locations(): string[];
}

/** The `NoRegisteredProviderFound` error for a Microsoft.Network request with an unsupported api-version. */
export function unsupportedApiVersion(path: string, apiVersion: string, context: ApiVersionContext): ArmError | undefined {
  const type = networkResourceType(path);
  if (type === undefined || SUPPORTED.has(apiVersion.toLowerCase())) return undefined;
  const location = /\/locations\/([^/]+)/i.exec(path)?.[1] ?? context.locationOf(path) ?? "";
  return new ArmError(
    400,
    "NoRegisteredProviderFound",
    `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type ` +
      `'${type}'. The supported api-versions are '${NETWORK_API_VERSIONS.join(", ")}'. The supported locations are ` +
      `'${context.locations().join(", ")}'.`,
  );
}

/** `networkWatchers/packetCaptures` for `/…/providers/Microsoft.Network/networkWatchers/nw/packetCaptures/pc/stop`. */
export function networkResourceType(path: string): string | undefined {
  const match = /\/providers\/Microsoft\.Network\/(.+)$/i.exec(path);
  if (!match?.[1]) return undefined;
  const segments = match[1].split("/").filter((segment) => segment !== "");
  const types = segments.filter((_, index) => index % 2 === 0);
  // A trailing action (`stop`, `queryStatus`) sits where a type would: drop it after a named resource.
  if (segments.length % 2 === 1 && segments.length > 1) types.pop();
  return types.join("/");
}
