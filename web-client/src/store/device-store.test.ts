import { describe, expect, it } from "vitest";
import { DeviceStore } from "./device-store.js";

/** An in-memory Web Storage: what localStorage is to the page. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear = () => this.items.clear();
  getItem = (key: string) => this.items.get(key) ?? null;
  key = (index: number) => [...this.items.keys()][index] ?? null;
  removeItem = (key: string) => void this.items.delete(key);
  setItem = (key: string, value: string) => void this.items.set(key, value);
}

describe("DeviceStore", () => {
  it("keeps credentials, the contributing flag and history across a reload, per control plane", () => {
    const storage = new MemoryStorage();
    const first = new DeviceStore("http://a", storage);
    first.update((s) => {
      s.credentials = { clientId: "c1", token: "t1" };
      s.contributing = true;
      s.totals.bytesUp += 10;
      s.history.push({ at: 1, jobId: "j", round: 1, status: "accepted", examples: 5, trainLoss: 0.5, bytesUp: 10, bytesDown: 20, backend: "wasm" });
    });
    const reloaded = new DeviceStore("http://a", storage);
    expect(reloaded.state.credentials).toEqual({ clientId: "c1", token: "t1" });
    expect(reloaded.state.contributing).toBe(true);
    expect(reloaded.state.shardSeed).toBe(first.state.shardSeed);
    expect(reloaded.state.history).toHaveLength(1);
    expect(reloaded.state.totals.bytesUp).toBe(10);
    expect(new DeviceStore("http://b", storage).state.credentials).toBeNull();
  });

  it("keeps the last 200 contributions and starts afresh from unreadable state", () => {
    const storage = new MemoryStorage();
    const store = new DeviceStore("http://a", storage);
    store.update((s) => {
      for (let round = 1; round <= 250; round++) s.history.push({ at: round, jobId: "j", round, status: "accepted", examples: 1, trainLoss: 0, bytesUp: 0, bytesDown: 0, backend: "cpu" });
    });
    expect(store.state.history.map((c) => c.round)).toEqual(Array.from({ length: 200 }, (_, i) => i + 51));
    storage.setItem("propius-device:http://c", "{not json");
    expect(new DeviceStore("http://c", storage).state.history).toEqual([]);
  });
});
