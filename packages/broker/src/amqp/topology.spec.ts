import { DeliveryClass } from '@kraken/messages';
import { queueArguments } from './topology.js';

describe('queueArguments', () => {
  it('makes durable queues quorum queues, single-active-consumer when asked', () => {
    expect(queueArguments({}, 100)).toEqual({ durable: true, arguments: { 'x-queue-type': 'quorum' } });
    expect(queueArguments({ singleActiveConsumer: true }, 100).arguments).toEqual({ 'x-queue-type': 'quorum', 'x-single-active-consumer': true });
  });

  it('bounds telemetry queues, refusing (not dropping silently) what does not fit; quorum ones in a cluster', () => {
    expect(queueArguments({ class: DeliveryClass.Telemetry }, 100)).toEqual({ durable: true, arguments: { 'x-max-length': 100, 'x-overflow': 'reject-publish' } });
    expect(queueArguments({ class: DeliveryClass.Telemetry, maxLength: 5 }, 100, true).arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-max-length': 5,
      'x-overflow': 'reject-publish',
    });
  });
});
