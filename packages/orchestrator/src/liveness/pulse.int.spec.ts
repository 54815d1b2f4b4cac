// Pulses over real UDP on loopback: what a sender signs, the listener takes; forged, replayed and
// foreign datagrams are turned away and counted; a taken port is not fatal.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { eventually } from '@kraken/testing';
import { DataKey } from '../data-key.js';
import { encodePulse, pulseKeyFor } from './pulse.js';
import { PulseListener } from './pulse-listener.js';
import { PulseSender } from './pulse-sender.js';

describe('the pulse channel', () => {
  const dataKey = DataKey.generate('test');
  let listener: PulseListener;
  let heard: string[];
  const senders: PulseSender[] = [];
  const sockets: Socket[] = [];

  const send = (datagram: Buffer, port: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = createSocket('udp4');
      sockets.push(socket);
      socket.send(datagram, port, '127.0.0.1', (error) => {
        if (error === null) resolve();
        else reject(error);
      });
    });

  beforeEach(async () => {
    heard = [];
    listener = await PulseListener.listen({
      host: '127.0.0.1',
      port: 0,
      keyFor: (nodeId) => (nodeId.startsWith('agent-') ? pulseKeyFor(dataKey, nodeId) : undefined),
      onPulse: (nodeId) => heard.push(nodeId),
    });
  });

  afterEach(async () => {
    for (const sender of senders.splice(0)) sender.stop();
    for (const socket of sockets.splice(0)) socket.close();
    await listener.close();
  });

  it('takes the pulses a node signs with its key, each one newer than the last', async () => {
    senders.push(PulseSender.start({ nodeId: 'agent-2', key: pulseKeyFor(dataKey, 'agent-2'), target: () => ({ host: '127.0.0.1', port: listener.port }), intervalMs: 20 }));
    await eventually(() => heard.length >= 5, 10_000, 'five pulses heard');
    expect(new Set(heard)).toEqual(new Set(['agent-2']));
    expect(listener.rejectedCount).toBe(0);
  });

  it('turns away a pulse signed with another node\'s key, one of an unknown node, garbage, and a replay', async () => {
    // agent-3's key cannot speak for agent-2
    await send(encodePulse({ nodeId: 'agent-2', seq: 5 }, pulseKeyFor(dataKey, 'agent-3')), listener.port);
    await send(encodePulse({ nodeId: 'intruder', seq: 5 }, randomBytes(32)), listener.port);
    await send(Buffer.from('not a pulse'), listener.port);
    await eventually(() => listener.rejectedCount === 3, 5_000, 'three datagrams turned away');
    expect(heard).toEqual([]);

    const genuine = encodePulse({ nodeId: 'agent-2', seq: 100 }, pulseKeyFor(dataKey, 'agent-2'));
    await send(genuine, listener.port);
    await eventually(() => heard.length === 1, 5_000, 'the genuine pulse heard');
    // the same datagram again, and an older one, say nothing new
    await send(genuine, listener.port);
    await send(encodePulse({ nodeId: 'agent-2', seq: 99 }, pulseKeyFor(dataKey, 'agent-2')), listener.port);
    await send(encodePulse({ nodeId: 'agent-2', seq: 101 }, pulseKeyFor(dataKey, 'agent-2')), listener.port);
    await eventually(() => heard.length === 2, 5_000, 'the newer pulse heard');
    expect(heard).toEqual(['agent-2', 'agent-2']);
  });

  it('listens on another port when the one asked for is taken', async () => {
    const other = await PulseListener.listen({ host: '127.0.0.1', port: listener.port, keyFor: () => undefined, onPulse: () => undefined });
    try {
      expect(other.port).not.toBe(listener.port);
      expect(other.port).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('sends nothing while it knows no leader, and pulses once it does', async () => {
    const known: { leader?: { host: string; port: number } } = {};
    senders.push(PulseSender.start({ nodeId: 'agent-2', key: pulseKeyFor(dataKey, 'agent-2'), target: () => known.leader, intervalMs: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard).toEqual([]);
    known.leader = { host: '127.0.0.1', port: listener.port };
    await eventually(() => heard.length >= 2, 10_000, 'pulses once the leader is known');
  });
});
