import { ErrorCode, KrakenError, TypedEmitter } from '@kraken/common';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '@kraken/messages';
import type { Clock } from '@kraken/common';
import type { NodeState } from '../store/records.js';
import { NodeState as NodeStates } from '../store/records.js';

export interface LivenessOptions {
  /** How often workers send node.info. @default DEFAULT_HEARTBEAT_INTERVAL_MS (2 s) */
  heartbeatIntervalMs?: number;
  /** Missed heartbeats before a node is suspect (gets no new work). @default 3 (6 s) */
  missedBeatsBeforeSuspect?: number;
  /**
   * Silence after which a node is dead and its apps move. @default 10_000
   *
   * Why 10 s: a busy 2-core machine (a build saturating the CPU, a swap storm) can miss a few 2 s
   * beats without being gone, and moving its apps then would rebuild them elsewhere for nothing
   * and leave two copies running. 10 s rides that out and is still about twice as quick as Docker
   * Swarm's failover (~19 s measured on this kind of hardware).
   */
  deadAfterMs?: number;
}

export interface LivenessTimings {
  suspectAfterMs: number;
  deadAfterMs: number;
}

export interface NodeTransition {
  nodeId: string;
  /** Undefined for a node heard from for the first time. */
  from: NodeState | undefined;
  to: NodeState;
  /** How long the node had been silent when this was decided. */
  silentMs: number;
}

export type LivenessEvents = {
  transition: [transition: NodeTransition];
};

export function livenessTimings(options: LivenessOptions = {}): LivenessTimings {
  const heartbeat = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const missed = options.missedBeatsBeforeSuspect ?? 3;
  const timings = { suspectAfterMs: heartbeat * missed, deadAfterMs: options.deadAfterMs ?? 10_000 };
  for (const [name, value] of [
    ['heartbeatIntervalMs', heartbeat],
    ['missedBeatsBeforeSuspect', missed],
    ['deadAfterMs', timings.deadAfterMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new KrakenError(ErrorCode.InvalidConfig, `liveness option ${name} must be a positive number, got ${String(value)}`);
    }
  }
  if (timings.deadAfterMs <= timings.suspectAfterMs) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `liveness: deadAfterMs (${timings.deadAfterMs}) must be longer than the suspect threshold (${timings.suspectAfterMs} = heartbeatIntervalMs x missedBeatsBeforeSuspect)`,
    );
  }
  return timings;
}

/** The state silence alone implies; pure. */
export function stateAfterSilence(silentMs: number, timings: LivenessTimings): NodeState {
  if (silentMs >= timings.deadAfterMs) return NodeStates.Dead;
  if (silentMs >= timings.suspectAfterMs) return NodeStates.Suspect;
  return NodeStates.Alive;
}

interface Tracked {
  state: NodeState;
  lastBeatAt: number;
}

/**
 * Per-node liveness from heartbeat times: alive -> suspect -> dead by silence, back to alive on
 * the next heartbeat. A dead node stays dead until it beats again. Every change is returned and
 * emitted as a `transition` event; the clock is injected, nothing here sets timers.
 */
export class Liveness extends TypedEmitter<LivenessEvents> {
  readonly timings: LivenessTimings;
  private readonly nodes = new Map<string, Tracked>();
  /** Set while the orchestrator cannot hear heartbeats at all (its broker connection is down). */
  private deafSince: number | undefined;

  constructor(
    private readonly clock: Clock,
    options: LivenessOptions = {},
  ) {
    super();
    this.timings = livenessTimings(options);
  }

  /** A heartbeat from `nodeId` now. */
  beat(nodeId: string): NodeTransition | undefined {
    const now = this.clock.now();
    const tracked = this.nodes.get(nodeId);
    this.nodes.set(nodeId, { state: NodeStates.Alive, lastBeatAt: now });
    if (tracked?.state === NodeStates.Alive) return undefined;
    return this.report({
      nodeId,
      from: tracked?.state,
      to: NodeStates.Alive,
      silentMs: tracked === undefined ? 0 : now - tracked.lastBeatAt,
    });
  }

  /**
   * Adopts a node known from before a restart without a transition. Its silence is counted from
   * now: the orchestrator was not listening while it was down, so old heartbeat times say nothing,
   * and counting from them would declare every node dead and move every app on restart.
   */
  restore(nodeId: string, state: NodeState): void {
    this.nodes.set(nodeId, { state, lastBeatAt: this.clock.now() });
  }

  /**
   * The orchestrator cannot hear any heartbeat (its own broker connection is down): silence says
   * nothing about the nodes now, so no node is judged until it hears again.
   */
  deafen(): void {
    this.deafSince ??= this.clock.now();
  }

  /**
   * Hearing again: each node's silence counts from now, as after a restart; heartbeats sent during
   * the outage may never arrive, and moving every app because the broker restarted would be wrong.
   */
  hearAgain(): void {
    if (this.deafSince === undefined) return;
    this.deafSince = undefined;
    this.pardon();
  }

  /** Each node's silence counts from now: what came before could not be heard (this process was frozen). */
  pardon(): void {
    const now = this.clock.now();
    for (const tracked of this.nodes.values()) tracked.lastBeatAt = Math.max(tracked.lastBeatAt, now);
  }

  /** Applies the silence of every node; call periodically. Judges nobody while deaf. */
  check(): NodeTransition[] {
    if (this.deafSince !== undefined) return [];
    const now = this.clock.now();
    const transitions: NodeTransition[] = [];
    for (const [nodeId, tracked] of this.nodes) {
      const silentMs = now - tracked.lastBeatAt;
      const next = stateAfterSilence(silentMs, this.timings);
      // only silence moves a node down; only a heartbeat brings it back
      if (rank(next) <= rank(tracked.state)) continue;
      const from = tracked.state;
      tracked.state = next;
      transitions.push(this.report({ nodeId, from, to: next, silentMs }));
    }
    return transitions;
  }

  state(nodeId: string): NodeState | undefined {
    return this.nodes.get(nodeId)?.state;
  }

  private report(transition: NodeTransition): NodeTransition {
    this.emit('transition', transition);
    return transition;
  }
}

function rank(state: NodeState): number {
  return state === NodeStates.Alive ? 0 : state === NodeStates.Suspect ? 1 : 2;
}
