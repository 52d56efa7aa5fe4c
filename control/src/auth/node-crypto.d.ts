// The part of Node's crypto module the control plane uses (workerd provides it under nodejs_compat).
// Declared here because the control plane's types are the Workers types, not Node's.
declare module "node:crypto" {
  interface Hmac {
    update(data: string | Uint8Array): Hmac;
    digest(): Uint8Array;
    digest(encoding: "base64url" | "hex"): string;
  }
  export function createHmac(algorithm: "sha256", key: string | Uint8Array): Hmac;
  export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}
