/**
 * Which nodes' Docker engines have been down long enough to move their containers' deployments.
 * A node whose engine stops answering is alive (it heartbeats) and its process-runtime apps run on,
 * but its containers are gone or unreachable: after a grace (an engine restart or upgrade takes a
 * few seconds and brings them back) they are placed elsewhere, and once the engine answers again
 * the node is told to stop the copies that moved away. Pure: times come from the caller.
 */
export type EngineEvent = { kind: 'failed'; downSinceMs: number } | { kind: 'recovered' };

export class EngineWatch {
  /** `moved`: its containers' deployments went elsewhere after the grace; `owed`: one went elsewhere because the engine failed its request (movedAway). */
  private readonly down = new Map<string, { sinceMs: number; moved: boolean; owed: boolean }>();

  constructor(private readonly graceMs: number) {}

  /**
   * A heartbeat's word on the node's engine (`undefined` from nodes without one). Returns `failed`
   * once, when the engine has been down for the grace; `recovered` once, when it answers again
   * after that, or after movedAway().
   */
  report(nodeId: string, healthy: boolean | undefined, nowMs: number): EngineEvent | undefined {
    const down = this.down.get(nodeId);
    if (healthy !== false) {
      this.down.delete(nodeId);
      return down?.moved === true || down?.owed === true ? { kind: 'recovered' } : undefined;
    }
    if (down === undefined) {
      this.down.set(nodeId, { sinceMs: nowMs, moved: false, owed: false });
      return undefined;
    }
    if (down.moved || nowMs - down.sinceMs < this.graceMs) return undefined;
    down.moved = true;
    return { kind: 'failed', downSinceMs: down.sinceMs };
  }

  /**
   * A deployment left the node because its engine did not answer a request, maybe before any
   * heartbeat said the engine is down and however short the outage: the engine's next answer says
   * `recovered`, so the node is told to stop what moved away (an engine restarts its containers).
   */
  movedAway(nodeId: string, nowMs: number): void {
    const down = this.down.get(nodeId);
    if (down === undefined) this.down.set(nodeId, { sinceMs: nowMs, moved: false, owed: true });
    else down.owed = true;
  }

  /** Whether the node's last heartbeat said its engine is down (or movedAway() was told so since). */
  isDown(nodeId: string): boolean {
    return this.down.has(nodeId);
  }

  /** The node is gone altogether (dead): what its engine did no longer matters. */
  forget(nodeId: string): void {
    this.down.delete(nodeId);
  }
}
