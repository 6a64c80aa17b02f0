// Progress notifications for long calls, sent only when the client asked for them with a progressToken.
import type { ToolExtra } from './defineTool.js';

export type ReportProgress = (message: string) => void;

/** A reporter counting up from 1 per report; a no-op without a progressToken. Sending failures are ignored. */
export function progressReporter(extra: ToolExtra): ReportProgress {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return () => undefined;
  let progress = 0;
  return (message) => {
    progress += 1;
    void extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } })
      .catch(() => undefined);
  };
}
