// ARM error responses: `{"error":{"code","message"[,"target"][,"details"]}}`.
//
// Each constructor below says where its code and message come from. "[rec]" = seen in a recorded real response
// (shared/docs/network-watcher-behaviour.md), "[arm]" = the generic ARM front-door text, "[synthetic]" = no real
// evidence exists; the emulator picks a descriptive code so that clients can at least tell the cases apart.

export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorBody[];
}

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly details: ArmErrorBody[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { target?: string; details?: ArmErrorBody[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ArmError";
    this.status = status;
    this.code = code;
    this.target = extra.target;
    this.details = extra.details;
    this.headers = extra.headers ?? {};
  }

  toBody(): { error: ArmErrorBody } {
    const error: ArmErrorBody = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** [arm] No `Authorization` header. */
export function missingAuthorization(): ArmError {
  return new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {
    headers: {
      "WWW-Authenticate":
        'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", ' +
        'error_description="The authentication failed because of missing \'Authorization\' header."',
    },
  });
}

/** [arm] An `Authorization` header that is not `Bearer <token>`. */
export function malformedAuthorization(): ArmError {
  return new ArmError(
    401,
    "AuthenticationFailed",
    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
  );
}

/** [arm] */
export function missingApiVersion(): ArmError {
  return new ArmError(
    400,
    "MissingApiVersionParameter",
    "The api-version query parameter (?api-version=) is required for all requests.",
  );
}

/** [arm] */
export function invalidApiVersion(apiVersion: string): ArmError {
  return new ArmError(
    400,
    "InvalidApiVersionParameter",
    `The api-version '${apiVersion}' is invalid. The supported versions are '2026-01-01,2026-04-01'.`,
  );
}

/** [arm] */
export function subscriptionNotFound(subscriptionId: string): ArmError {
  return new ArmError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);
}

/** [arm] */
export function resourceGroupNotFound(resourceGroup: string): ArmError {
  return new ArmError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
}

/** [arm] A top-level (or nested, with its full type path) resource that does not exist. */
export function resourceNotFound(typePath: string, name: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${typePath}/${name}' under resource group '${resourceGroup}' was not found. ` +
      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  );
}

/** [rec]/[arm] A nested resource whose parent does not exist (e.g. a capture under a missing watcher). */
export function parentResourceNotFound(parentName: string): ArmError {
  return new ArmError(
    404,
    "ParentResourceNotFound",
    `Can not perform requested operation on nested resource. Parent resource '${parentName}' not found.`,
  );
}

/** [rec] A packet capture that does not exist (recorded with `details: []`). */
export function packetCaptureNotFound(captureId: string): ArmError {
  return new ArmError(404, "NotFound", `Resource ${captureId} not found.`, { details: [] });
}

/** [arm] A path the emulator does not serve (or that ARM does not know). */
export function unknownRoute(method: string, path: string): ArmError {
  return new ArmError(
    404,
    "InvalidResourceType",
    `The resource type could not be found for '${method} ${path}' (not served by the alertcap ARM emulator).`,
  );
}

/** [arm] */
export function methodNotAllowed(method: string): ArmError {
  return new ArmError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
}

/** [arm] A body that is not JSON at all. */
export function invalidRequestContent(reason: string): ArmError {
  return new ArmError(
    400,
    "InvalidRequestContent",
    `The request content was invalid and could not be deserialized: '${reason}'.`,
  );
}

/** [inf] The Network RP's resource-name rule and message. */
export function invalidResourceName(name: string): ArmError {
  return new ArmError(
    400,
    "InvalidResourceName",
    `Resource name ${name} is invalid. The name can be up to 80 characters long. It must begin with a word character, ` +
      "and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.",
  );
}

/** [synthetic] A packet-capture body that breaks the spec schema or a documented rule; names the offending path. */
export function invalidCaptureRequest(path: string, problem: string, details: ArmErrorBody[] = []): ArmError {
  return new ArmError(400, "InvalidRequestFormat", `Cannot parse the request. '${path}' ${problem}`, {
    target: path,
    details,
  });
}

/** [synthetic] A Microsoft.Insights (metric alert, action group) body that breaks the spec schema or a rule; names the path. */
export function invalidMonitorRequest(path: string, problem: string, details: ArmErrorBody[] = []): ArmError {
  return new ArmError(400, "InvalidRequestFormat", `Cannot parse the request. '${path}' ${problem}`, {
    target: path,
    details,
  });
}

/** [arm]/[synthetic] A metric alert scope that names no resource of the subscription: ARM's not-found text, with the path. */
export function alertScopeNotFound(scope: string, path: string, typePath: string, name: string, resourceGroup: string): ArmError {
  const notFound = resourceNotFound(typePath, name, resourceGroup);
  return new ArmError(404, notFound.code, `${notFound.message} (alert scope '${scope}')`, { target: path });
}

/** [user report] A metric alert action naming an action group that does not exist or lives in another subscription. */
export function actionGroupNotUsable(actionGroupId: string, path: string): ArmError {
  return new ArmError(
    400,
    "BadRequest",
    `Arm resource ${actionGroupId} is invalid or in a different subscription as alert rule.`,
    { target: path },
  );
}

/** [arm] 429 throttling, with the ARM wording. */
export function subscriptionThrottled(
  kind: "read" | "write",
  subscriptionId: string,
  retryAfterSeconds: number,
): ArmError {
  return new ArmError(
    429,
    "SubscriptionRequestsThrottled",
    `Number of '${kind}' requests for subscription '${subscriptionId}' actor 'alertcap' exceeded. ` +
      `Please try again after '${retryAfterSeconds}' seconds after additional tokens are available. ` +
      "Refer to https://aka.ms/arm-throttling",
    { headers: { "Retry-After": String(retryAfterSeconds) } },
  );
}

/** [rec] The only real packet-capture server error text seen (Azure/WALinuxAgent#2765). */
export function internalServerError(): ArmError {
  return new ArmError(500, "InternalServerError", "An error occurred.");
}

/** [arm] Generic gateway/availability failures for fault injection. */
export function serverErrorWithStatus(status: number, retryAfterSeconds: number | undefined): ArmError {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) };
  switch (status) {
    case 502:
      return new ArmError(502, "BadGateway", "The server received an invalid response from an upstream server.", { headers });
    case 503:
      return new ArmError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.", { headers });
    case 504:
      return new ArmError(504, "GatewayTimeout", "The gateway did not receive a response within the specified time period.", { headers });
    default:
      return new ArmError(status, "InternalServerError", "An error occurred.", { headers });
  }
}
