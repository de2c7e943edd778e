// Small waiting helpers shared by the emulator's tests.

/** Polls `condition` every 25 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The error a call fails with (an SDK RestError has `statusCode` and `code`); fails if the call succeeds. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  throw new Error("expected the call to fail");
}
