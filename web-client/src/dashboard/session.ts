import { OwnerClient } from "@propius/edge-runtime";

/**
 * The signed-in owner: the API key lives in sessionStorage only (gone when the tab closes, never in
 * a URL or localStorage), one entry per control plane.
 */
const keyName = (controlPlane: string) => `propius.dashboard.key:${controlPlane}`;

export class Session {
  constructor(readonly controlPlane: string) {}

  /** The client for the stored key, or null when nobody signed in in this tab. */
  client(): OwnerClient | null {
    const apiKey = sessionStorage.getItem(keyName(this.controlPlane));
    return apiKey ? this.clientFor(apiKey) : null;
  }

  get apiKey(): string | null {
    return sessionStorage.getItem(keyName(this.controlPlane));
  }

  /** Checks the key with `GET /v1/jobs` (a refused key throws the API's error) and keeps it. */
  async signIn(apiKey: string): Promise<OwnerClient> {
    const client = this.clientFor(apiKey.trim());
    await client.jobs();
    sessionStorage.setItem(keyName(this.controlPlane), apiKey.trim());
    return client;
  }

  signOut(): void {
    sessionStorage.removeItem(keyName(this.controlPlane));
  }

  private clientFor(apiKey: string): OwnerClient {
    // Few retries: a person is waiting, and the page says what failed.
    return new OwnerClient({ baseUrl: this.controlPlane, apiKey, attempts: 2 });
  }
}
