import type { Env } from "../env.js";

/** Hono's environment for the control plane: bindings plus what the auth middleware resolved. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    tenant: string;
    clientId: string;
  };
}
