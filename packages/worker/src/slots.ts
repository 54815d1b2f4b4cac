/** A place in line for a deploy slot. */
export interface SlotTicket {
  /** true once the slot is held; false when the ticket was cancelled while waiting. */
  readonly ready: Promise<boolean>;
  /** Gives the slot back (or leaves the line); safe to call more than once. */
  release(): void;
  /** True while in line for a slot. */
  readonly waiting: boolean;
}

/**
 * At most `limit` deploys at once, the rest waiting in arrival order. Builds share the CPU and
 * the disk, so running fewer at once finishes each one sooner.
 */
export class Slots {
  private active = 0;
  private readonly waiting: { grant: () => void }[] = [];
  /** Who holds each slot now, in the order they got it: what waiting work is queued behind. */
  private readonly owners: string[] = [];

  /** `onIdle` is told each time the last held slot is given back with nobody in line (background work may start). */
  constructor(
    private readonly limit: number,
    private readonly onIdle: () => void = () => undefined,
  ) {}

  /** `owner` names the work (a deployment id) to those queued behind it. */
  acquire(owner = 'another deploy'): SlotTicket {
    let state: 'waiting' | 'held' | 'done' = 'waiting';
    let resolveReady: (held: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => {
      resolveReady = resolve;
    });
    const entry = {
      grant: () => {
        state = 'held';
        this.active++;
        this.owners.push(owner);
        resolveReady(true);
      },
    };
    if (this.active < this.limit) entry.grant();
    else this.waiting.push(entry);
    return {
      ready,
      release: () => {
        if (state === 'held') {
          state = 'done';
          this.active--;
          this.owners.splice(this.owners.indexOf(owner), 1);
          this.waiting.shift()?.grant();
          if (this.idle) this.onIdle();
        } else if (state === 'waiting') {
          state = 'done';
          const index = this.waiting.indexOf(entry);
          if (index !== -1) this.waiting.splice(index, 1);
          resolveReady(false);
        }
      },
      get waiting() {
        return state === 'waiting';
      },
    };
  }

  /** The owners of the slots held now, earliest first. */
  get holders(): readonly string[] {
    return [...this.owners];
  }

  /** No slot held and nobody in line. */
  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  get size(): number {
    return this.limit;
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
