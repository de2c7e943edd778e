// What every orchestration shares about calling activities: how ARM calls are retried, and how a failed activity
// is put into words.
import * as df from "durable-functions";

/** ARM calls ride out throttling and transient errors here, on top of the SDK's own retries. */
export const armRetry = (() => {
  const options = new df.RetryOptions(5_000, 5);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 60_000;
  return options;
})();

/** durable-functions reports an activity failure as "<Reason> \n <Details>"; the reason is the readable part. */
export const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split("\n")[0]!.trim();
