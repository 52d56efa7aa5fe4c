import { JobEventSubscription } from "@propius/edge-runtime";
import type { Command } from "./command.js";
import { usageError } from "./cli-error.js";
import { ends, eventLine } from "./event-lines.js";
import { nodeWebSocket } from "../web-socket.js";

/** How long `jobs follow` waits for an event before it checks the subscription is still alive. */
const QUIET_MS = 60_000;

export const jobsFollow: Command = {
  path: ["jobs", "follow"],
  args: ["<id>"],
  summary: "follow a job live: its state, then each round as devices bind, report and it closes, until the job ends",
  options: {
    since: { type: "string", value: "seq", help: "resume after this event sequence number (the job replays what it still holds)" },
  },
  details: `Events are pushed as they happen over a WebSocket (GET /v1/jobs/:id/events), not polled; a
dropped connection is reopened and resumed. The first line is the job as it stands. It ends when the
job is done, cancelled or failed (exit 0), or on an error (exit 1); Ctrl-C stops it.
--json prints each event as one line of JSON (see docs/api.md, "Live job events").`,
  async run(context, [id], options) {
    const since = options.since === undefined ? undefined : Number(options.since);
    if (since !== undefined && !(Number.isInteger(since) && since >= 0)) throw usageError(`--since takes an event sequence number (a whole number), got '${options.since}'`);
    const subscription = await JobEventSubscription.open({
      ...(await context.httpOptions()), apiKey: await context.apiKey(), jobId: id, since,
      connector: context.io.connector ?? nodeWebSocket(),
    });
    try {
      for (;;) {
        const event = await subscription.next(QUIET_MS);
        if (event === null) continue;
        context.io.stdout(context.json ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`);
        if (ends(event)) return;
      }
    } finally {
      subscription.close();
    }
  },
};
