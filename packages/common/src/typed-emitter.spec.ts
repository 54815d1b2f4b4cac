import { TypedEmitter } from './typed-emitter.js';

// a type alias, not an interface extending Record<string, ...>: that would let any event name through
type Events = {
  'node-joined': [nodeId: string, cpus: number];
  'dead-lettered': [message: { id: string }];
  closed: [];
};

/** Real emitters keep emit protected; the test opens it up to drive events. */
class TestEmitter extends TypedEmitter<Events> {
  override emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    super.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('on() passes every emit of that event to the listener with its arguments', () => {
    const emitter = new TestEmitter();
    const seen: [string, number][] = [];

    emitter.on('node-joined', (nodeId, cpus) => seen.push([nodeId, cpus]));
    emitter.emit('node-joined', 'pi-kitchen', 4);
    emitter.emit('node-joined', 'mini-pc', 8);

    expect(seen).toEqual([
      ['pi-kitchen', 4],
      ['mini-pc', 8],
    ]);
  });

  it('delivers only the event a listener subscribed to', () => {
    const emitter = new TestEmitter();
    const closed = jest.fn();

    emitter.on('closed', closed);
    emitter.emit('dead-lettered', { id: 'm1' });

    expect(closed).not.toHaveBeenCalled();
  });

  it('calls every listener of an event in subscription order', () => {
    const emitter = new TestEmitter();
    const order: string[] = [];

    emitter.on('closed', () => order.push('first')).on('closed', () => order.push('second'));
    emitter.emit('closed');

    expect(order).toEqual(['first', 'second']);
  });

  it('once() calls the listener for the first emit only', () => {
    const emitter = new TestEmitter();
    const listener = jest.fn<undefined, [{ id: string }]>();

    emitter.once('dead-lettered', listener);
    emitter.emit('dead-lettered', { id: 'm1' });
    emitter.emit('dead-lettered', { id: 'm2' });

    expect(listener.mock.calls).toEqual([[{ id: 'm1' }]]);
  });

  it('off() stops a listener and leaves the others subscribed', () => {
    const emitter = new TestEmitter();
    const removed = jest.fn();
    const kept = jest.fn();

    emitter.on('closed', removed).on('closed', kept);
    emitter.off('closed', removed);
    emitter.emit('closed');

    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
  });

  it('off() also removes a once() listener before it fires', () => {
    const emitter = new TestEmitter();
    const listener = jest.fn();

    emitter.once('closed', listener).off('closed', listener);
    emitter.emit('closed');

    expect(listener).not.toHaveBeenCalled();
  });

  it('emitting an event nobody listens to does nothing', () => {
    expect(() => {
      new TestEmitter().emit('node-joined', 'n1', 1);
    }).not.toThrow();
  });

  it('allows many subscribers without a MaxListenersExceeded warning', async () => {
    const emitter = new TestEmitter();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      let calls = 0;
      for (let i = 0; i < 50; i++) emitter.on('closed', () => calls++);
      emitter.emit('closed');
      // process warnings are emitted on a later tick
      await new Promise((resolve) => setImmediate(resolve));

      expect(calls).toBe(50);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('checks event names and argument types at compile time', () => {
    const emitter = new TestEmitter();
    const calls = jest.fn();
    emitter.on('closed', calls);

    // @ts-expect-error an event not in the map
    emitter.on('node-left', calls);
    // @ts-expect-error cpus must be a number
    emitter.emit('node-joined', 'n1', '4');
    // @ts-expect-error the listener's parameters must match the event's arguments
    emitter.on('node-joined', (nodeId: number) => {
      calls(nodeId);
    });

    emitter.emit('closed');
    expect(calls).toHaveBeenCalledTimes(1);
  });
});
