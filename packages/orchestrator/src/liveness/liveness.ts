import { ErrorCode, KrakenError, TypedEmitter } from '@kraken/common';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '@kraken/messages';
import type { Clock } from '@kraken/common';
import type { NodeState } from '../store/records.js';
import { NodeState as NodeStates } from '../store/records.js';
import type { PhiAccrualOptions, PhiAccrualSettings } from './phi-accrual.js';
import { HeartbeatIntervals, phiAccrualSettings } from './phi-accrual.js';

export interface LivenessOptions extends PhiAccrualOptions {
  /** How often workers send node.info: the interval a new node is expected to keep. @default DEFAULT_HEARTBEAT_INTERVAL_MS (2 s) */
  heartbeatIntervalMs?: number;
  /** Missed heartbeats after which a node is suspect (gets no new work) whatever its history. @default 3 (6 s) */
  missedBeatsBeforeSuspect?: number;
  /**
   * The longest silence a node may show before it is dead and its apps move, whatever its history
   * says. @default 30_000
   *
   * Most nodes are declared dead much sooner: by the phi accrual detector, as soon as their silence
   * is improbable for them (about 4 s on a quiet LAN with 2 s heartbeats). This bound only caps
   * the patience learned from a very lossy link, where TCP retransmits stall heartbeats for seconds.
   */
  deadAfterMs?: number;
  /**
   * How long a node whose agent said it stops cleanly (an update, a service restart: its apps keep
   * running) may stay away before it is dead and its apps move. @default 60_000
   */
  stoppedGraceMs?: number;
  /**
   * How long after a node's last pulse (a signed UDP datagram it sends the leader beside its
   * heartbeats, see pulse.ts) it is still known to be reachable: then it is never declared dead,
   * only suspect, whatever its heartbeats over the broker do. At two pulses a second and 30% loss,
   * eight in a row go missing once in ~15,000 windows; a killed node is still noticed as soon as
   * phi allows (about 4 s on a clean link). @default 4_000
   */
  pulseGraceMs?: number;
  /** Suspicion (phi) at which a node is suspect and gets no new work. @default 3 */
  suspectPhi?: number;
  /**
   * Suspicion (phi) at which a node is dead and its apps move: 8 means a live node with this
   * heartbeat history would stay this silent about once in 10^8 times. @default 8
   */
  deadPhi?: number;
}

export interface LivenessTimings {
  heartbeatIntervalMs: number;
  /** Silence after which any node is suspect. */
  suspectAfterMs: number;
  /** Silence after which any node is dead. */
  deadAfterMs: number;
  /** Silence after which a node that said it stops is dead. */
  stoppedGraceMs: number;
  pulseGraceMs: number;
  suspectPhi: number;
  deadPhi: number;
  detector: PhiAccrualSettings;
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
  const timings: LivenessTimings = {
    heartbeatIntervalMs: heartbeat,
    suspectAfterMs: heartbeat * missed,
    deadAfterMs: options.deadAfterMs ?? 30_000,
    stoppedGraceMs: options.stoppedGraceMs ?? 60_000,
    pulseGraceMs: options.pulseGraceMs ?? 4_000,
    suspectPhi: options.suspectPhi ?? 3,
    deadPhi: options.deadPhi ?? 8,
    detector: phiAccrualSettings(options),
  };
  for (const [name, value] of [
    ['heartbeatIntervalMs', heartbeat],
    ['missedBeatsBeforeSuspect', missed],
    ['deadAfterMs', timings.deadAfterMs],
    ['stoppedGraceMs', timings.stoppedGraceMs],
    ['pulseGraceMs', timings.pulseGraceMs],
    ['suspectPhi', timings.suspectPhi],
    ['deadPhi', timings.deadPhi],
    ['windowSize', timings.detector.windowSize],
    ['minStdDevMs', timings.detector.minStdDevMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new KrakenError(ErrorCode.InvalidConfig, `liveness option ${name} must be a positive number, got ${String(value)}`);
    }
  }
  if (!Number.isFinite(timings.detector.acceptablePauseMs) || timings.detector.acceptablePauseMs < 0) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `liveness option acceptablePauseMs must be zero or more, got ${String(timings.detector.acceptablePauseMs)}`,
    );
  }
  if (timings.deadAfterMs <= timings.suspectAfterMs) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `liveness: deadAfterMs (${timings.deadAfterMs}) must be longer than the suspect threshold (${timings.suspectAfterMs} = heartbeatIntervalMs x missedBeatsBeforeSuspect)`,
    );
  }
  if (timings.deadPhi <= timings.suspectPhi) {
    throw new KrakenError(ErrorCode.InvalidConfig, `liveness: deadPhi (${timings.deadPhi}) must be above suspectPhi (${timings.suspectPhi})`);
  }
  return timings;
}

/** The state a silence implies for a node with these heartbeat intervals; pure. */
export function stateAfterSilence(silentMs: number, intervals: HeartbeatIntervals, timings: LivenessTimings): NodeState {
  const phi = intervals.phi(silentMs);
  if (silentMs >= timings.deadAfterMs || phi >= timings.deadPhi) return NodeStates.Dead;
  if (silentMs >= timings.suspectAfterMs || phi >= timings.suspectPhi) return NodeStates.Suspect;
  return NodeStates.Alive;
}

/**
 * What the broker says of a silent node: `connected` (it still consumes its queue: its heartbeats are
 * stalled on a bad link), `gone` (no consumer: phi may declare it dead), or `no answer` (the question
 * failed). Only `gone` lets phi alone declare a node dead; the others wait for the fixed bound, as
 * moving a live node's apps runs them twice.
 */
export type BrokerAnswer = 'connected' | 'gone' | 'no answer';

interface Tracked {
  state: NodeState;
  lastBeatAt: number;
  intervals: HeartbeatIntervals;
  /** What the broker said of the node's connection since its last heartbeat; undefined: not asked. */
  broker: BrokerAnswer | undefined;
  /** When its last pulse came; undefined: none since the orchestrator tracks it. */
  lastPulseAt: number | undefined;
  /** Set by a heartbeat saying the agent stops cleanly: then only stoppedGraceMs of silence kills it. */
  stopping: boolean;
  /**
   * Whether the time to the next heartbeat is one of the node's intervals. Not after a restart, a
   * pardon or a death: the silence then was the orchestrator's or the node's absence, not its rhythm.
   */
  measuring: boolean;
}

/** What the detector has learned of a node, for the API and `kraken nodes`. */
export interface NodeDetection {
  /** Mean of the learned heartbeat intervals. */
  intervalMs: number;
  /** Their standard deviation (at least the configured floor). */
  jitterMs: number;
  /** Suspicion now; 0 right after a heartbeat. */
  phi: number;
  /** The silence after which this node would be declared dead now: how long its loss takes to notice. */
  noticeLossAfterMs: number;
  /** Its agent said it stops cleanly and has not beaten since. */
  stopping: boolean;
  /** How long since its last pulse; undefined when none came (an older agent, or UDP blocked on the way). */
  lastPulseMsAgo: number | undefined;
  /** Its pulses arrive (within pulseGraceMs): it is reachable, and is not declared dead while they do. */
  reachable: boolean;
}

/**
 * Per-node liveness from heartbeat times: alive -> suspect -> dead by silence, judged against each
 * node's own learned heartbeat intervals (phi accrual) and capped by fixed bounds; back to alive on
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

  /**
   * A heartbeat from `nodeId` now. `stopping`: its agent's last one before a clean stop; the node
   * is suspect (no new work) at once, and dead only after stoppedGraceMs without a heartbeat.
   */
  beat(nodeId: string, { stopping = false }: { stopping?: boolean } = {}): NodeTransition | undefined {
    const now = this.clock.now();
    const known = this.nodes.get(nodeId);
    const from = known?.state;
    const tracked = known ?? this.track(nodeId, NodeStates.Alive, now);
    const silentMs = now - tracked.lastBeatAt;
    // a goodbye comes whenever the agent stops, not in its rhythm
    if (tracked.measuring && from !== NodeStates.Dead && !stopping) tracked.intervals.add(silentMs);
    const to = stopping ? NodeStates.Suspect : NodeStates.Alive;
    tracked.state = to;
    tracked.lastBeatAt = now;
    // the next beat comes after the agent's restart: no interval of its rhythm
    tracked.measuring = !stopping;
    tracked.broker = undefined;
    tracked.stopping = stopping;
    if (from === to) return undefined;
    return this.report({ nodeId, from, to, silentMs: from === undefined ? 0 : silentMs });
  }

  /** What the detector has learned of `nodeId`, or undefined for a node it does not track. */
  detection(nodeId: string): NodeDetection | undefined {
    const tracked = this.nodes.get(nodeId);
    if (tracked === undefined) return undefined;
    const { intervals } = tracked;
    return {
      intervalMs: Math.round(intervals.meanMs),
      jitterMs: Math.round(intervals.stdDevMs),
      phi: Math.max(0, Math.round(intervals.phi(this.clock.now() - tracked.lastBeatAt) * 100) / 100),
      noticeLossAfterMs: tracked.stopping
        ? this.timings.stoppedGraceMs
        : Math.round(Math.min(this.timings.deadAfterMs, intervals.silenceForPhi(this.timings.deadPhi))),
      stopping: tracked.stopping,
      lastPulseMsAgo: tracked.lastPulseAt === undefined ? undefined : this.clock.now() - tracked.lastPulseAt,
      reachable: this.pulsedWithinGrace(tracked, this.clock.now()),
    };
  }

  /**
   * A pulse from `nodeId` now: it is reachable, whatever its heartbeats over the broker say (they
   * may be stalled on a lossy link, or its broker connection down), so it is not declared dead
   * within pulseGraceMs of this. A pulse neither brings a node back (only a heartbeat, which says
   * what it runs, does) nor counts as a heartbeat in its rhythm. Returns whether it was taken.
   */
  pulse(nodeId: string): boolean {
    const tracked = this.nodes.get(nodeId);
    if (tracked === undefined || tracked.state === NodeStates.Dead) return false;
    tracked.lastPulseAt = this.clock.now();
    return true;
  }

  /**
   * Adopts a node known from before a restart without a transition. Its silence is counted from
   * now: the orchestrator was not listening while it was down, so old heartbeat times say nothing,
   * and counting from them would declare every node dead and move every app on restart.
   */
  restore(nodeId: string, state: NodeState): void {
    this.track(nodeId, state, this.clock.now());
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
    for (const tracked of this.nodes.values()) {
      tracked.lastBeatAt = Math.max(tracked.lastBeatAt, now);
      tracked.measuring = false;
    }
  }

  /**
   * Applies the silence of every node; call periodically. Judges nobody while deaf. `now`: the
   * instant deathCandidates() was asked at, so a node whose silence grew improbable while the broker
   * was being asked about others is judged at the next check, once asked about too.
   */
  check(now = this.clock.now()): NodeTransition[] {
    if (this.deafSince !== undefined) return [];
    const transitions: NodeTransition[] = [];
    for (const [nodeId, tracked] of this.nodes) {
      const silentMs = now - tracked.lastBeatAt;
      let next = tracked.stopping
        ? silentMs >= this.timings.stoppedGraceMs
          ? NodeStates.Dead
          : NodeStates.Suspect
        : stateAfterSilence(silentMs, tracked.intervals, this.timings);
      // a node still connected to the broker is slow, not gone (TCP is retransmitting its
      // heartbeats over a lossy link), and a broker that cannot say proves nothing: only the fixed bound declares it dead.
      // Unless the node pulses and its pulses stopped too: a lossy link lets most through, so the
      // machine is gone (its power, its cable) and the broker only has not timed out its connection yet
      const reachable = this.pulsedWithinGrace(tracked, now);
      const pulsesStopped = tracked.lastPulseAt !== undefined && !reachable;
      const vetoed = !pulsesStopped && (tracked.broker === 'connected' || tracked.broker === 'no answer');
      if (next === NodeStates.Dead && vetoed && silentMs < this.timings.deadAfterMs) next = NodeStates.Suspect;
      // a node whose pulses arrive is reachable, even past the fixed bound: moving its apps runs them twice
      if (next === NodeStates.Dead && !tracked.stopping && reachable) next = NodeStates.Suspect;
      // only silence moves a node down; only a heartbeat brings it back
      if (rank(next) <= rank(tracked.state)) continue;
      const from = tracked.state;
      tracked.state = next;
      transitions.push(this.report({ nodeId, from, to: next, silentMs }));
    }
    return transitions;
  }

  /**
   * Nodes whose silence is already improbable enough to declare them dead, short of the fixed bound:
   * ask the broker whether each is still connected (setBrokerAnswer), then check(now) with the same `now`.
   */
  deathCandidates(now = this.clock.now()): string[] {
    if (this.deafSince !== undefined) return [];
    return [...this.nodes]
      .filter(([, tracked]) => {
        const silentMs = now - tracked.lastBeatAt;
        return (
          !tracked.stopping &&
          tracked.state !== NodeStates.Dead &&
          !this.pulsedWithinGrace(tracked, now) &&
          silentMs < this.timings.deadAfterMs &&
          tracked.intervals.phi(silentMs) >= this.timings.deadPhi
        );
      })
      .map(([nodeId]) => nodeId);
  }

  /** What the broker says of a silent node's connection (see deathCandidates); forgotten at its next heartbeat. */
  setBrokerAnswer(nodeId: string, answer: BrokerAnswer): void {
    const tracked = this.nodes.get(nodeId);
    if (tracked !== undefined) tracked.broker = answer;
  }

  state(nodeId: string): NodeState | undefined {
    return this.nodes.get(nodeId)?.state;
  }

  private pulsedWithinGrace(tracked: Tracked, now: number): boolean {
    return tracked.lastPulseAt !== undefined && now - tracked.lastPulseAt < this.timings.pulseGraceMs;
  }

  private track(nodeId: string, state: NodeState, lastBeatAt: number): Tracked {
    const known = this.nodes.get(nodeId);
    const tracked: Tracked = {
      // what a node showed before a restart of the orchestrator is lost with it; a new term relearns
      intervals: known?.intervals ?? new HeartbeatIntervals(this.timings.heartbeatIntervalMs, this.timings.detector),
      state,
      lastBeatAt,
      measuring: false,
      broker: undefined,
      lastPulseAt: known?.lastPulseAt,
      stopping: false,
    };
    this.nodes.set(nodeId, tracked);
    return tracked;
  }

  private report(transition: NodeTransition): NodeTransition {
    this.emit('transition', transition);
    return transition;
  }
}

function rank(state: NodeState): number {
  return state === NodeStates.Alive ? 0 : state === NodeStates.Suspect ? 1 : 2;
}
