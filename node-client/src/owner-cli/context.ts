import { OwnerClient, type FetchLike, type HttpOptions, type WebSocketConnector } from "@propius/edge-runtime";
import type { OptionValues } from "./command.js";
import { CliError } from "./cli-error.js";
import { DEFAULT_URL, configPath, normalUrl, readConfig, type OwnerConfig } from "./config.js";

/** What the CLI reaches of its process, given so that a test can run it in its own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** A secret typed or piped in (login's API key when `--key` is not given): the first line of stdin. */
  readSecret(prompt: string): Promise<string>;
  fetch?: FetchLike;
  /** Opens WebSockets (`jobs follow`); the `ws` package or Node's own when unset. */
  connector?: WebSocketConnector;
}

/**
 * Attempts per request: a command fails soon when the control plane is down (about 0.75 s of
 * back-off), rather than after the devices' six attempts, but outlasts a blip.
 */
const ATTEMPTS = 3;

/** A command's view of its run: where the control plane is, the key for it, and how to print. */
export class Context {
  readonly json: boolean;
  readonly configPath: string;
  private config: OwnerConfig | undefined;

  constructor(
    readonly io: CliIo,
    private readonly options: OptionValues,
  ) {
    this.json = options.json === true;
    this.configPath = configPath(io.env);
  }

  async loadConfig(): Promise<OwnerConfig> {
    return (this.config ??= await readConfig(this.configPath));
  }

  /** `--url`, else `PROPIUS_URL`, else the control plane logged in to last, else the local default. */
  async url(): Promise<string> {
    const given = (this.options.url as string | undefined) ?? (this.io.env.PROPIUS_URL || undefined);
    if (given !== undefined) {
      if (!/^https?:\/\/[^/]/.test(given)) throw new CliError(`--url takes an http:// or https:// URL, got '${given}'`, true);
      return normalUrl(given);
    }
    return normalUrl((await this.loadConfig()).url ?? DEFAULT_URL);
  }

  async httpOptions(): Promise<HttpOptions> {
    return { baseUrl: await this.url(), fetch: this.io.fetch, attempts: ATTEMPTS };
  }

  /** `PROPIUS_API_KEY`, else the key stored by `propius login` for this control plane. */
  async apiKey(): Promise<string> {
    const url = await this.url();
    const apiKey = this.io.env.PROPIUS_API_KEY || (await this.loadConfig()).keys[url];
    if (!apiKey) throw new CliError(`not logged in to ${url}: run \`propius login --url ${url}\` (or set PROPIUS_API_KEY)`);
    return apiKey;
  }

  /** The owner SDK with the key for this control plane. */
  async owner(): Promise<OwnerClient> {
    return new OwnerClient({ ...(await this.httpOptions()), apiKey: await this.apiKey() });
  }

  /** Prints a command's answer: `value` as JSON with `--json`, else the human text. */
  print(human: string | (() => string), value: unknown): void {
    this.io.stdout(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${typeof human === "string" ? human : human()}\n`);
  }
}
