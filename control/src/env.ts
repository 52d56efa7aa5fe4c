import type { DirectoryObject } from "./directory/directory-object.js";
import type { JobObject } from "./job/job-object.js";

/** Bindings and configuration of the control-plane Worker (see wrangler.toml). */
export interface Env {
  JOBS: DurableObjectNamespace<JobObject>;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
  MODELS: R2Bucket;
  /** Key that may create tenants (secret; `.dev.vars` locally, `wrangler secret put` in production). */
  PROPIUS_ADMIN_KEY?: string;
  /** HMAC secret that signs client tokens (secret). */
  PROPIUS_TOKEN_SECRET?: string;
  /** Largest accepted update or model upload, in bytes. */
  MAX_UPLOAD_BYTES?: string;
}
