import type { DirectoryObject } from "./directory/directory-object.js";
import type { JobObject } from "./job/job-object.js";
import type { ClientManagerObject } from "./clients/client-manager-object.js";
import type { AggregatorObject } from "./aggregation/aggregator-object.js";

/** Bindings and configuration of the control-plane Worker (see wrangler.toml). */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
  CLIENTS: DurableObjectNamespace<ClientManagerObject>;
  AGGREGATORS: DurableObjectNamespace<AggregatorObject>;
  MODELS: R2Bucket;
  /** Key that may create tenants (secret; `.dev.vars` locally, `wrangler secret put` in production). */
  PROPIUS_ADMIN_KEY?: string;
  /** HMAC secret that signs client tokens (secret). */
  PROPIUS_TOKEN_SECRET?: string;
  /** Largest accepted update or model upload, in bytes. */
  MAX_UPLOAD_BYTES?: string;
  /** How long an upload's body may bring no bytes before it is ended with `upload_stalled`, in ms (default 30000). */
  UPLOAD_IDLE_MS?: string;
  /** The resource-sharing policy: fifo, random, srsf, irs (default), static-partition or client-random. */
  SCHEDULING_POLICY?: string;
  /** How many client-manager shards take check-ins (default 4). */
  CLIENT_SHARDS?: string;
  /** How long a shard reuses the list of running jobs, in ms (default 1000). */
  SCHEDULER_VIEW_TTL_MS?: string;
  /** How soon after activity a client-manager shard reports its metrics, in ms (default 5000). */
  METRICS_FLUSH_MS?: string;
}
