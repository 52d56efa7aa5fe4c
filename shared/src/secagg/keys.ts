import { fromBase64Url, toBase64Url } from "./secure-wire.js";

/**
 * Key agreement for secure aggregation, on WebCrypto alone: ECDH over P-256, the shared secret
 * run through HKDF-SHA256 with a label naming its use, job and round; AES-256-GCM to seal the
 * secret shares one device sends another through the control plane.
 */
export interface KeyPair {
  /** The public key, uncompressed (65 bytes): what the device advertises. */
  publicKey: Uint8Array;
  privateKey: CryptoKey;
  /** The private scalar (32 bytes): what the device secret-shares, so that the key can be rebuilt if it drops out. */
  scalar: Uint8Array;
}

const CURVE = { name: "ECDH", namedCurve: "P-256" } as const;

/** Bytes as WebCrypto takes them (over an ArrayBuffer; a view over shared memory is copied). */
export function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey(CURVE, true, ["deriveBits"])) as CryptoKeyPair;
  const publicKey = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey, privateKey: pair.privateKey, scalar: fromBase64Url(jwk.d!) };
}

/** Whether `bytes` is a P-256 public key, uncompressed (65 bytes), that WebCrypto takes. */
export async function isPublicKey(bytes: Uint8Array): Promise<boolean> {
  if (bytes.length !== 65 || bytes[0] !== 4) return false;
  try {
    await crypto.subtle.importKey("raw", own(bytes), CURVE, false, []);
    return true;
  } catch {
    return false;
  }
}

/** A private key rebuilt from its scalar (reconstructed from shares) and its advertised public key. */
export function importPrivateKey(publicKey: Uint8Array, scalar: Uint8Array): Promise<CryptoKey> {
  if (publicKey.length !== 65 || publicKey[0] !== 4) throw new RangeError("a public key is 65 bytes, uncompressed");
  const jwk: JsonWebKey = { kty: "EC", crv: "P-256", x: toBase64Url(publicKey.subarray(1, 33)), y: toBase64Url(publicKey.subarray(33)), d: toBase64Url(scalar), ext: true };
  return crypto.subtle.importKey("jwk", jwk, CURVE, false, ["deriveBits"]);
}

/** The 32 bytes two devices agree on for `label` (for example "mask/job/round"): either side's private key with the other's public one. */
export async function agree(privateKey: CryptoKey, peerPublicKey: Uint8Array, label: string): Promise<Uint8Array> {
  const peer = await crypto.subtle.importKey("raw", own(peerPublicKey), CURVE, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, privateKey, 256);
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveBits"]);
  const info = new TextEncoder().encode(`propius secagg ${label}`);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info }, ikm, 256));
}

/** `plaintext` sealed with a 32-byte key: a random 12-byte nonce, then the AES-GCM ciphertext and tag. `context` is authenticated too. */
export async function seal(key: Uint8Array, plaintext: Uint8Array, context: string): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const aes = await crypto.subtle.importKey("raw", own(key), "AES-GCM", false, ["encrypt"]);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(context) }, aes, own(plaintext)));
  const out = new Uint8Array(12 + sealed.length);
  out.set(nonce);
  out.set(sealed, 12);
  return out;
}

/** The plaintext of `seal`; fails (an OperationError) when the key, the context or a byte is wrong. */
export async function open(key: Uint8Array, sealed: Uint8Array, context: string): Promise<Uint8Array> {
  const aes = await crypto.subtle.importKey("raw", own(key), "AES-GCM", false, ["decrypt"]);
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: own(sealed.subarray(0, 12)), additionalData: new TextEncoder().encode(context) }, aes, own(sealed.subarray(12))));
}
