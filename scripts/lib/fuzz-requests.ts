import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, encodeWeights } from "@propius/shared";
import { issueClientToken } from "../../control/src/auth/tokens.js";
import type { Chance } from "./fuzz-random.js";
import { hostileValue, placesIn, resolve, sample, setAt, wrongType, type Components, type Schema } from "./fuzz-schema.js";
import { hostileWeights, mayBeAccepted } from "./fuzz-weights.js";
import { FUZZ_MODEL, validDelta, type World } from "./fuzz-world.js";

/**
 * Hostile requests over every route of the served OpenAPI document: each starts from a request
 * the route would take (the world's credentials, ids, ticket and a valid body) and has one part
 * spoilt: its credentials, a path or query parameter, a header, its media type, its JSON body or
 * weights message, its size, its method or how it is sent. A request that would still change
 * something (valid credentials naming the world's own resources, a body that may be accepted) is
 * spoilt once more where it is sure to be refused, and must be answered 4xx.
 */
export interface Operation {
  method: string;
  template: string;
  params: { name: string; in: "path" | "query" | "header"; schema: Schema }[];
  body: { types: string[]; schema: Schema | null } | null;
  schemes: string[];
}

export interface FuzzRequest {
  /** `METHOD /template` of the route it targets. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** fetch; `chunked`: streamed without a Content-Length; `truncated`: half the body its Content-Length states, then the connection dropped (a raw socket); `raw`: a raw socket (a GET with a body). */
  transport: "fetch" | "chunked" | "truncated" | "raw";
  mutation: string;
  /** It must be refused: a 2xx means a hostile request was taken. */
  mustRefuse: boolean;
}

export type OpenApi = { paths: Record<string, Record<string, { parameters?: Operation["params"]; requestBody?: { content: Record<string, { schema?: Schema }> }; security?: Record<string, unknown>[] }>>; components: { schemas: Components } };

export function operationsOf(doc: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content;
      ops.push({
        method: method.toUpperCase(),
        template,
        params: op.parameters ?? [],
        body: content ? { types: Object.keys(content), schema: content["application/json"]?.schema ?? null } : null,
        schemes: (op.security ?? []).flatMap((s) => Object.keys(s)),
      });
    }
  }
  return ops;
}

const JSON_LIMIT = 1 << 20;
const enc = new TextEncoder();
const routeOf = (op: Operation) => `${op.method} ${op.template}`;
/** Routes that change nothing even when they take a request: everything may be tried on them. */
const harmless = (op: Operation) => op.method === "GET" || routeOf(op) === "POST /v1/clients";

/** Valid bodies for the routes whose schemas alone make a poor sample. */
function knownBody(route: string, rng: Chance): unknown {
  switch (route) {
    case "POST /v1/tenants": return { name: `fuzz-${rng.int(1e6)}` };
    case "POST /v1/jobs": return { name: "fuzz", model: FUZZ_MODEL, plan: { rounds: 1, clientsPerRound: 1 } };
    case "PATCH /v1/jobs/{id}": return { clientsPerRound: 3 };
    case "POST /v1/jobs/{id}/rounds/{round}/failures": return { code: "training_error", message: "x" };
    case "POST /v1/jobs/{id}/rounds/{round}/evaluations": return { examples: 1, loss: 0.1, accuracy: 0.5 };
    case "POST /v1/jobs/{id}/rounds/{round}/metrics": return { testAccuracy: 0.5 };
    case "POST /v1/clients": case "POST /v1/checkin": case "POST /v1/ping": return { attributes: { platform: "node" } };
    default: return undefined;
  }
}

/** Credentials by kind: the world's own for the scheme, the other tenant's, and wrong ones. */
async function credentialsFor(world: World): Promise<Record<string, string>> {
  return {
    forgedDevice: (await issueClientToken("not-the-secret", world.hostile.clientId, Date.now() + 3_600_000)).token,
    // Another device's expiry and signature under this device's id.
    tamperedDevice: `ct_${world.unused.clientId}.${world.hostile.token.split(".").slice(1).join(".")}`,
  };
}

export interface Generator {
  operations: Operation[];
  /** The hostile request for slot `index`, its choices drawn from `rng`. */
  next(index: number, rng: Chance): FuzzRequest;
}

export async function requestGenerator(doc: OpenApi, world: World, options: { dropClients?: boolean } = {}): Promise<Generator> {
  const operations = operationsOf(doc);
  const components = doc.components.schemas;
  const wrong = await credentialsFor(world);
  const valid: Record<string, string> = { apiKey: world.owner.apiKey, deviceToken: world.hostile.token, adminKey: world.adminKey };
  const randomJob = (rng: Chance) => `job_${Buffer.from(rng.bytes(9)).toString("base64url")}`;

  return {
    operations,
    next(index, rng) {
      const op = operations[index % operations.length];
      const route = routeOf(op);
      const scheme = op.schemes.length ? rng.pick(op.schemes) : null;
      let credsValid = scheme !== null;
      let targetValid = true;
      let bodyInvalid = false;
      let mutation = "";
      let method = op.method;
      let transport: FuzzRequest["transport"] = "fetch";
      let headOnly = false;
      const headers: Record<string, string> = {};
      let token = scheme ? valid[scheme] : undefined;
      const params: Record<string, string> = { id: world.jobId, round: String(world.hostile.task.round), hash: world.modelHash };
      const query: Record<string, string> = {};
      for (const p of op.params) {
        if (p.in === "query" && rng.chance(0.5)) query[p.name] = p.name === "limit" ? "10" : p.name === "hash" ? world.modelHash : world.jobId;
        if (p.in === "header" && p.name === TICKET_HEADER) headers[TICKET_HEADER] = world.hostile.task.ticket;
      }
      const jsonBody = op.body?.types.includes("application/json");
      const weightsKind = route.startsWith("PUT") ? "model" : "delta";
      let json: unknown = jsonBody ? (knownBody(route, rng) ?? sample(op.body!.schema ?? {}, components, rng)) : undefined;
      let text: string | undefined;
      let bytes: Uint8Array | undefined = op.body && !jsonBody ? (weightsKind === "model" ? encodeWeights({ kind: "model", codec: "fp32", tensors: world.tensors }, new Float32Array(8)) : validDelta(world.tensors)) : undefined;
      let type = op.body ? (jsonBody ? "application/json" : WEIGHTS_MEDIA_TYPE) : undefined;

      const family = rng.pick(["credentials", "path", "path", "query", "header", "type", "body", "body", "body", "body", "transport", "method", "oversized"] as const);
      switch (family) {
        case "credentials": {
          const kinds: [string, string | undefined, boolean][] = [
            ["no credentials", undefined, false],
            ["an empty bearer", "", false],
            ["a garbage token", rng.pick(["x", "pk_" + "a".repeat(40), "ct_abc.def", "\u00e9\u00e8", "a".repeat(8_000)]), false],
            ["a forged device token", wrong.forgedDevice, false],
            ["a device token with another device's id", wrong.tamperedDevice, false],
            ["a device token on an owner route", world.hostile.token, scheme === "deviceToken"],
            ["an API key on a device route", world.owner.apiKey, scheme === "apiKey"],
            ["the admin key where it is not asked", world.adminKey, scheme === "adminKey"],
            ["the other tenant's API key", world.other.apiKey, scheme === "apiKey"],
          ];
          const [what, value, stillValid] = rng.pick(kinds);
          mutation = what;
          token = value;
          credsValid = stillValid;
          if (what === "the other tenant's API key" && op.template.includes("{id}")) targetValid = false;
          if (value === "" ) headers.authorization = rng.pick(["Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "bearer  x"]);
          break;
        }
        case "path": {
          const name = rng.pick(["id", "round", "hash"].filter((n) => op.template.includes(`{${n}}`)).concat(["id"]));
          const choices: Record<string, [string, string][]> = {
            id: [["the other tenant's job", world.other.jobId], ["a job that does not exist", randomJob(rng)], ["an id of the wrong shape", rng.pick(["job_", "job_!!!!!!!!", "JOB_abcdefgh1", "job_" + "a".repeat(300), "%2e%2e%2f", "job_%00abcdefgh", "%F0%9F%92%A5", "job_abcdefgh%2F..", "-1", ""])]],
            round: [["another round", rng.pick(["2", "3", "999999999"])], ["a round out of range", rng.pick(["0", "-1", "1.5", "01", "1e3", "NaN", "Infinity", "9999999999", "0x1", " 1", "%20"])]],
            hash: [["another hash", Buffer.from(rng.bytes(32)).toString("hex")], ["a hash of the wrong shape", rng.pick(["", "G".repeat(64), world.modelHash.toUpperCase(), world.modelHash.slice(1), world.modelHash + "0", "../" + world.modelHash])]],
          };
          const [what, value] = rng.pick(choices[name]);
          if (!op.template.includes(`{${name}}`)) {
            mutation = "an unknown path beside the route";
            params.__extra = value;
          } else {
            mutation = `${name}: ${what}`;
            params[name] = value;
            targetValid = false;
          }
          break;
        }
        case "query": {
          // A query the route does not declare is ignored; one it declares names what it reads.
          const declared = op.params.filter((p) => p.in === "query").map((p) => p.name);
          const name = declared.length && rng.chance(0.8) ? rng.pick(declared) : "unknown";
          const values: Record<string, string[]> = {
            limit: ["0", "-1", "1001", "abc", "1e20", "", "1.5", "100000000000000000000000"],
            hash: ["x", Buffer.from(rng.bytes(32)).toString("hex"), "%00", world.modelHash.toUpperCase()],
            job: [randomJob(rng), world.other.jobId, "bad", "job_" + "z".repeat(100)],
            unknown: ["A".repeat(rng.pick([10, 5_000])), "%ff%fe", "1&x=2&x=3"],
          };
          const value = rng.pick(values[name] ?? values.unknown);
          query[name] = value;
          mutation = `query ${name}=${value.slice(0, 40)}`;
          break;
        }
        case "header": {
          if (op.params.some((p) => p.name === TICKET_HEADER)) {
            const [what, value] = rng.pick([
              ["no ticket", undefined],
              ["another device's ticket", world.uploaded.task.ticket],
              ["a forged ticket", world.hostile.task.ticket.replace(/\.[^.]+$/, `.${"A".repeat(43)}`)],
              ["a ticket of the wrong shape", rng.pick(["x", "tk.", "tk." + "a".repeat(500) + "." + "b".repeat(43), "\u00ff".repeat(10)])],
            ] as const);
            if (value === undefined) delete headers[TICKET_HEADER];
            else headers[TICKET_HEADER] = value;
            mutation = what;
            bodyInvalid = true;
          } else {
            headers[rng.pick(["x-forwarded-for", "cf-connecting-ip", "accept", "accept-encoding", "x-long"])] = rng.pick(["1.2.3.4, 5.6.7.8", "*/*;q=" + "9".repeat(100), "gzip, br, zstd", "A".repeat(8_000)]);
            mutation = "an odd header";
          }
          break;
        }
        case "type": {
          type = rng.pick([undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", jsonBody ? WEIGHTS_MEDIA_TYPE : "application/json", "A".repeat(2_000)]);
          mutation = `content type ${type === undefined ? "missing" : type.slice(0, 40)}`;
          bodyInvalid = op.body !== null;
          break;
        }
        case "body": {
          if (jsonBody) {
            const top = resolve(op.body!.schema ?? {}, components);
            const places = placesIn(top, components);
            const kinds: (() => [string, boolean])[] = [
              () => {
                const place = rng.pick(places.length ? places : [{ path: ["x"], schema: {} }]);
                const value = wrongType(place.schema, components, rng);
                json = setAt(json, place.path, value === undefined ? 1 : value);
                return [`${place.path.join(".")} of the wrong type`, place.path.length === 1 && value !== undefined];
              },
              () => {
                const place = rng.pick(places.length ? places : [{ path: ["x"], schema: {} }]);
                const [what, value] = hostileValue(rng);
                json = setAt(json, place.path, value);
                return [`${place.path.join(".")}: ${what}`, false];
              },
              () => {
                const required = top.required ?? [];
                if (!required.length) return ["nothing required to remove", false];
                const key = rng.pick(required);
                json = setAt(json, [key], undefined);
                return [`required ${key} missing`, true];
              },
              () => {
                json = setAt(json, [rng.pick(["extra", "__proto__", "constructor", "id", "tenant"])], rng.pick([1, "x", { polluted: true }]));
                return ["an unknown field", top.additionalProperties === false];
              },
              () => {
                json = rng.pick([null, [], "string", 123, true, [json]]);
                return ["a body of another type", true];
              },
              () => {
                const whole = JSON.stringify(json ?? {});
                const candidates = [whole.slice(0, Math.max(1, rng.int(whole.length))), whole + rng.pick(["}", ",", "x", "\u0000"]), whole.replaceAll('"', "'"), "{" + whole.slice(1, -1) + ",}", "NaN", "/* c */" + whole, "{\"a\":1,\"a\":2"];
                // Only those that really do not parse (`{}` with its quotes swapped is still `{}`).
                text = rng.pick(candidates.filter((candidate) => !parses(candidate)));
                return ["JSON that does not parse", true];
              },
              () => {
                const depth = rng.pick([65, 200, 5_000, 100_000]);
                text = `{"attributes":${"[".repeat(depth)}${"]".repeat(depth)}}`;
                return [`JSON nested ${depth} deep`, true];
              },
              () => {
                text = "";
                return ["an empty body", true];
              },
              () => {
                text = JSON.stringify(json).replace(/"([^"]*)"/, rng.pick(['"\\ud800"', '"\\u0000"', '"\\uDFFF\\uD800"']));
                return ["a lone surrogate in a string", false];
              },
            ];
            const [what, sure] = rng.pick(kinds)();
            mutation = what;
            bodyInvalid = sure;
          } else if (op.body) {
            const hostile = hostileWeights(weightsKind, world.tensors, rng);
            bytes = hostile.bytes;
            mutation = `weights: ${hostile.mutation}`;
            bodyInvalid = !mayBeAccepted(bytes, weightsKind, world.tensors);
          } else {
            bytes = rng.bytes(rng.pick([1, 100, 64 << 10]));
            type = "application/octet-stream";
            mutation = "a body where the route takes none";
            transport = "raw";
          }
          break;
        }
        case "transport": {
          // The same draw either way, so that a seed sends the same requests with and without dropped clients.
          transport = rng.pick(["chunked", "truncated"] as const);
          if (!options.dropClients) transport = "chunked";
          mutation = transport === "chunked" ? "streamed without a Content-Length" : "a body shorter than its Content-Length";
          if (!op.body) (bytes = rng.bytes(256)), (type ??= "application/octet-stream");
          // A route that takes no body answers without reading one: only a body it reads can be cut short.
          bodyInvalid = transport === "truncated" && op.body !== null;
          break;
        }
        case "method": {
          method = rng.pick(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "POST", "GET"].filter((m) => m !== op.method));
          mutation = `method ${method}`;
          const declared = operations.some((o) => o.template === op.template && o.method === method);
          if (declared) (method = "PROPFIND"), (mutation = "method PROPFIND");
          if (method === "HEAD" || method === "TRACE") (bytes = undefined), (json = undefined), (text = undefined);
          // fetch will not send TRACE; HEAD is a GET without the body, and changes nothing.
          if (method === "TRACE") transport = "raw";
          if (method === "HEAD") headOnly = true;
          targetValid = false;
          break;
        }
        case "oversized": {
          const over = (jsonBody ? JSON_LIMIT : 2_000_000) + 1 + rng.int(512 << 10);
          bytes = new Uint8Array(over).fill(0x20);
          if (jsonBody) bytes.set(enc.encode(JSON.stringify(json)), 0);
          json = undefined;
          type ??= "application/octet-stream";
          transport = rng.pick(["fetch", "chunked"] as const);
          mutation = `an oversized body (${over} bytes${transport === "chunked" ? ", streamed" : ""})`;
          bodyInvalid = op.body !== null;
          break;
        }
      }

      // Still able to change something: spoil it where it is sure to be refused.
      const mustRefuse = !harmless(op) && !headOnly;
      if (mustRefuse && credsValid && targetValid && !bodyInvalid) {
        if (jsonBody && text === undefined && json !== undefined) {
          const top = resolve(op.body!.schema ?? {}, components);
          const key = Object.keys(top.properties ?? {})[0] ?? "attributes";
          json = setAt(typeof json === "object" && json !== null && !Array.isArray(json) ? json : {}, [key], wrongType(top.properties?.[key] ?? { type: "object" }, components, rng) ?? "not this");
          mutation += ` (and ${key} of the wrong type)`;
        } else if (headers[TICKET_HEADER]) {
          headers[TICKET_HEADER] = world.uploaded.task.ticket;
          mutation += " (and another device's ticket)";
        } else if (op.template.includes("{id}")) {
          params.id = world.other.jobId;
          mutation += " (and the other tenant's job)";
        } else {
          token = wrong.forgedDevice;
          mutation += " (and a forged token)";
        }
      }

      if (token !== undefined && token !== "") headers.authorization = `Bearer ${token}`;
      if (type !== undefined && (op.body || bytes)) headers["content-type"] = type;
      let path = op.template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURI(params[name] ?? "")).replace(/%25/g, "%");
      if (params.__extra) path += `/${encodeURIComponent(params.__extra)}`;
      const search = new URLSearchParams(query).toString();
      if (search) path += `?${search}`;
      const body = bytes ?? (text !== undefined ? enc.encode(text) : json !== undefined ? enc.encode(JSON.stringify(json)) : undefined);
      // fetch sends no body with GET or HEAD: those go over a raw socket.
      if ((method === "GET" || method === "HEAD") && body && transport === "fetch") transport = "raw";
      return { route, method, path, headers, body, transport, mutation, mustRefuse };
    },
  };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
