// Invokes a registered function the way the Node worker does: RPC typed data in, the app's own InvocationModel in
// the middle (argument conversion, context, output conversion), an RpcInvocationResponse out. A fresh invocation
// context per call matters for orchestrators: durable-functions keeps `context.df` from the first episode otherwise.
import { randomUUID } from "node:crypto";
import type { CoreApiRegistry, RpcInvocationResponse, RpcTypedData } from "./coreApi.js";
import type { HostLogger, LogLevel } from "./log.js";

export interface InvocationInput {
  /** Binding name → RPC typed data, as the host would send in `InvocationRequest.inputData`. */
  inputData: Array<{ name: string; data: RpcTypedData }>;
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Drop the function's own log lines (the determinism guard's second replay must not log twice). */
  silent?: boolean;
}

export class Invoker {
  constructor(
    private readonly registry: CoreApiRegistry,
    private readonly logger: HostLogger,
  ) {}

  triggerBindingName(functionName: string, type?: string): string {
    const { bindings } = this.registry.function(functionName).metadata;
    const found = Object.entries(bindings).find(([, b]) => (type ? b.type === type : /trigger$/i.test(b.type)));
    if (!found) throw new Error(`Function "${functionName}" has no ${type ?? "trigger"} binding`);
    return found[0];
  }

  /** Calls the function; an exception thrown by the function is rethrown (as the worker reports a failure). */
  async invoke(functionName: string, input: InvocationInput): Promise<RpcInvocationResponse> {
    const fn = this.registry.function(functionName);
    const invocationId = randomUUID();
    const coreContext = {
      invocationId,
      metadata: fn.metadata,
      request: { invocationId, functionId: functionName, inputData: input.inputData, triggerMetadata: input.triggerMetadata ?? {} },
      state: undefined as string | undefined,
      log: (level: LogLevel, category: string, message: string) => {
        if (input.silent) return;
        if (category === "user" || level === "warning" || level === "error") this.logger.log(functionName, message, level);
      },
    };
    const model = this.registry.model().getInvocationModel(coreContext);
    const { context, inputs } = await model.getArguments();
    await this.registry.runHooks("preInvocation", { invocationContext: context, inputs, functionHandler: fn.callback });
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(context, inputs, fn.callback);
    } catch (e) {
      error = e;
    }
    coreContext.state = "postInvocationHooks";
    await this.registry.runHooks("postInvocation", { invocationContext: context, inputs, result, error });
    if (error !== undefined) throw error;
    return model.getResponse(context, result);
  }
}

/** The value the worker would hand back to the host for a typed-data return. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (data == null) return undefined;
  if (data.json !== undefined) return JSON.parse(data.json);
  if (data.string !== undefined) return data.string;
  if (data.bytes !== undefined) return Buffer.from(data.bytes);
  if (data.int !== undefined) return data.int;
  if (data.double !== undefined) return data.double;
  return undefined;
}
