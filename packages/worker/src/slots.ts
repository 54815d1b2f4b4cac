/** A place in line for a deploy slot. */
export interface SlotTicket {
  /** true once the slot is held; false when the ticket was cancelled while waiting. */
  readonly ready: Promise<boolean>;
  /** Gives the slot back (or leaves the line); safe to call more than once. */
  release(): void;
}

/**
 * At most `limit` deploys at once, the rest waiting in arrival order. Builds share the CPU and
 * the disk, so running fewer at once finishes each one sooner.
 */
export class Slots {
  private active = 0;
  private readonly waiting: { grant: () => void }[] = [];

  constructor(private readonly limit: number) {}

  acquire(): SlotTicket {
    let state: 'waiting' | 'held' | 'done' = 'waiting';
    let resolveReady: (held: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => {
      resolveReady = resolve;
    });
    const entry = {
      grant: () => {
        state = 'held';
        this.active++;
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
          this.waiting.shift()?.grant();
        } else if (state === 'waiting') {
          state = 'done';
          const index = this.waiting.indexOf(entry);
          if (index !== -1) this.waiting.splice(index, 1);
          resolveReady(false);
        }
      },
    };
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
