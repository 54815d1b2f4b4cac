import { ErrorCode, KrakenError } from '@kraken/common';
import { brokerPresence } from './broker-presence.js';

describe('brokerPresence', () => {
  /** The broker's AMQP count, and rabbitmqctl's; every question asked is recorded. */
  const counts = (amqp: number | Error, live: number | Error) => {
    const asked: string[] = [];
    const answer = (value: number | Error) => (value instanceof Error ? Promise.reject(value) : Promise.resolve(value));
    const sources = {
      consumerCount: (queue: string) => {
        asked.push(`amqp ${queue}`);
        return answer(amqp);
      },
      liveConsumerCount: (queue: string) => {
        asked.push(`live ${queue}`);
        return answer(live);
      },
    };
    return { asked, sources };
  };

  it('says not connected when nothing consumes the queue, without asking for a second opinion', async () => {
    const { sources, asked } = counts(0, 1);
    expect(await brokerPresence('kraken.node.a', sources)).toEqual({ connected: false, why: 'nothing consumes its queue' });
    expect(asked).toEqual(['amqp kraken.node.a']);
  });

  it('takes a missing queue for no consumer, and any other failure for "cannot tell"', async () => {
    expect((await brokerPresence('q', counts(new KrakenError(ErrorCode.NotFound, 'no queue q'), 1).sources)).connected).toBe(false);
    const unknown = await brokerPresence('q', counts(new Error('channel closed'), 1).sources);
    expect(unknown).toEqual({ connected: undefined, why: 'the broker did not answer: channel closed' });
  });

  it('trusts the broker\'s count when there is no second opinion to ask', async () => {
    expect((await brokerPresence('q', { consumerCount: () => Promise.resolve(1) })).connected).toBe(true);
  });

  it('says not connected when the broker holds the consumer only as suspected down', async () => {
    const { sources, asked } = counts(1, 0);
    const presence = await brokerPresence('kraken.node.b', sources);
    expect(presence.connected).toBe(false);
    expect(presence.why).toMatch(/lost contact with the member/);
    expect(asked).toEqual(['amqp kraken.node.b', 'live kraken.node.b']);
  });

  it('keeps "connected" when the second opinion agrees, cannot tell, or fails', async () => {
    expect((await brokerPresence('q', counts(1, 1).sources)).connected).toBe(true);
    expect((await brokerPresence('q', { consumerCount: () => Promise.resolve(1), liveConsumerCount: () => Promise.resolve(undefined) })).connected).toBe(true);
    expect((await brokerPresence('q', counts(1, new Error('rabbitmqctl timed out')).sources)).connected).toBe(true);
  });
});
