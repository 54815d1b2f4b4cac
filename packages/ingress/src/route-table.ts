import type { Clock } from '@kraken/common';
import { TypedEmitter, optionChecks, systemClock } from '@kraken/common';

/** Where one name goes. */
export interface Route {
  /** The Host name it answers for (a DNS label, lower case). */
  name: string;
  deploymentId: string;
  /** The deployment's status, shown when no instance answers. */
  status: string;
  /** Where an instance answers now (`http://host:port`); undefined while none runs or answers. */
  upstream?: string | undefined;
  /** Why an instance that runs gets nothing: it does not answer its node's ready checks. */
  notAnswering?: string | undefined;
}

/** A whole table, as the leader of term `epoch` published it (its `seq`-th in that term). */
export interface RouteSnapshot {
  epoch: number;
  seq: number;
  routes: readonly Route[];
}

export interface RouteTableOptions {
  /**
   * A table of an older term is a former leader's and is ignored, unless the newest one is this
   * old: a cluster whose state was lost counts its terms from 1 again. @default 15_000
   */
  staleAfterMs?: number;
  clock?: Clock;
}

export type RouteTableEvents = {
  /** A newer table replaced the routes. */
  changed: [snapshot: RouteSnapshot];
};

/**
 * The routes an ingress serves: the newest whole table, by leader term then sequence. Lookups go
 * by the Host header's first label, so `app`, `app.local` and `app.example.lan:8080` all reach
 * the deployment named `app`.
 */
export class RouteTable extends TypedEmitter<RouteTableEvents> {
  private byName = new Map<string, Route>();
  private current: { epoch: number; seq: number; appliedAt: number } | undefined;
  private readonly staleAfterMs: number;
  private readonly clock: Clock;

  constructor(options: RouteTableOptions = {}) {
    super();
    this.staleAfterMs = optionChecks('RouteTable').positiveDuration('staleAfterMs', options.staleAfterMs ?? 15_000);
    this.clock = options.clock ?? systemClock;
  }

  /** Replaces the routes with `snapshot` unless the one held is newer; says whether it did. */
  apply(snapshot: RouteSnapshot): boolean {
    const held = this.current;
    const now = this.clock.now();
    if (held !== undefined) {
      const older = snapshot.epoch < held.epoch || (snapshot.epoch === held.epoch && snapshot.seq < held.seq);
      if (older && now - held.appliedAt <= this.staleAfterMs) return false;
    }
    const same = held?.epoch === snapshot.epoch && held.seq === snapshot.seq;
    this.current = { epoch: snapshot.epoch, seq: snapshot.seq, appliedAt: now };
    if (same) return false;
    this.byName = new Map(snapshot.routes.map((route) => [route.name, route]));
    this.emit('changed', snapshot);
    return true;
  }

  /** The route for a request's Host header, if any. */
  lookup(host: string | undefined): Route | undefined {
    const name = nameOfHost(host);
    return name === undefined ? undefined : this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The term and sequence of the table held; undefined before the first. */
  get version(): { epoch: number; seq: number } | undefined {
    return this.current === undefined ? undefined : { epoch: this.current.epoch, seq: this.current.seq };
  }
}

/** The first label of a Host header, lower case, without the port; undefined for an IP address or nothing. */
export function nameOfHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const trimmed = host.trim().toLowerCase();
  if (trimmed === '' || trimmed.startsWith('[')) return undefined;
  const hostname = trimmed.replace(/:\d*$/, '');
  // an IPv4 address names no app: its first label is a number
  if (/^\d+(\.\d+){3}$/.test(hostname)) return undefined;
  const label = hostname.split('.')[0];
  return label === undefined || label === '' ? undefined : label;
}
