// Stands in for the Node worker's built-in module `@azure/functions-core`, the seam through which `@azure/functions`
// (and so durable-functions) registers functions. The worker injects it by proxying `Module.prototype.require`
// (azure-functions-nodejs-worker src/setupCoreModule.ts); we do the same, so product code runs unmodified and we get
// exactly the callbacks and binding metadata the worker would get. It must be installed before the app is imported.
import Module from "node:module";

export interface RpcBinding {
  type: string;
  name?: string;
  direction: "in" | "out" | "inout";
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBinding>;
  retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

/** The subset of @azure/functions' ProgrammingModel the host drives. */
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): InvocationModel;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: RpcHttpData;
  int?: number;
  double?: number;
}

export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: RpcTypedData | null;
  statusCode?: string;
  cookies?: unknown[];
}

export interface RpcInvocationResponse {
  invocationId: string;
  outputData?: Array<{ name: string; data: RpcTypedData | null | undefined }>;
  returnValue?: RpcTypedData | null;
}

type HookName = "appStart" | "appTerminate" | "preInvocation" | "postInvocation" | "log";
type HookCallback = (context: Record<string, unknown>) => unknown;

export class CoreApiRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<HookName, Set<HookCallback>>();
  programmingModel: ProgrammingModel | undefined;

  function(name: string): RegisteredFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`No function named "${name}" is registered (have: ${[...this.functions.keys()].join(", ")})`);
    return fn;
  }

  model(): ProgrammingModel {
    if (!this.programmingModel) throw new Error("The app did not set a programming model: is @azure/functions v4 loaded?");
    return this.programmingModel;
  }

  async runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks.get(name) ?? []) await hook(context);
  }
}

class Disposable {
  readonly #dispose: () => void;
  constructor(dispose: () => void) {
    this.#dispose = dispose;
  }
  dispose(): void {
    this.#dispose();
  }
}

// @azure/functions sets its programming model once per process, when its first registration happens; a registry
// made later (a second host in the same process, as in tests) must still see it.
let programmingModel: ProgrammingModel | undefined;
let current: CoreApiRegistry | undefined;

/**
 * Installs the `@azure/functions-core` module for this process (once) and makes a fresh registry the one that
 * receives registrations from now on. Import the app only after this call.
 */
export function installCoreApi(hostVersion = "4.1037.0.0"): CoreApiRegistry {
  const registry = new CoreApiRegistry();
  registry.programmingModel = programmingModel;
  const first = current === undefined;
  current = registry;
  if (!first) return registry;
  const active = (): CoreApiRegistry => current!;
  const coreApi = {
    version: "3.12.0",
    hostVersion,
    Disposable,
    setProgrammingModel(model: ProgrammingModel) {
      programmingModel = model;
      active().programmingModel = model;
    },
    getProgrammingModel() {
      return programmingModel;
    },
    registerFunction(metadata: FunctionMetadata, callback: FunctionCallback) {
      const registry = active();
      if (registry.functions.has(metadata.name)) {
        throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
      }
      registry.functions.set(metadata.name, { metadata, callback });
      return new Disposable(() => registry.functions.delete(metadata.name));
    },
    registerHook(name: HookName, callback: HookCallback) {
      const registry = active();
      const set = registry.hooks.get(name) ?? new Set<HookCallback>();
      registry.hooks.set(name, set);
      set.add(callback);
      return new Disposable(() => set.delete(callback));
    },
  };
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: [string]) {
      return args[0] === "@azure/functions-core" ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });
  return registry;
}
