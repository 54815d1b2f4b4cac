import { EventEmitter } from 'node:events';

/** An event map: event name -> listener argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * EventEmitter with the event names and argument types checked by the compiler, so that
 * `on('dead-lettered', ...)` cannot drift from what `emit` sends.
 */
export class TypedEmitter<Events extends EventMap> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // listeners are per-subscriber; many subscribers to one broker/agent are normal
    this.emitter.setMaxListeners(0);
  }

  on<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<E extends keyof Events & string>(event: E, ...args: Events[E]): void {
    this.emitter.emit(event, ...args);
  }
}
