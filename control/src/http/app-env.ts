import type { PropiusError } from "@propius/shared";
import type { Env } from "../env.js";

/** Hono's environment for the control plane: bindings plus what the auth middleware resolved. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    tenant: string;
    clientId: string;
    /** Why a body passed on as a stream was ended (too large, stalled), for the answer (see `streamLimit`). */
    bodyFailure: () => PropiusError | null;
  };
}
