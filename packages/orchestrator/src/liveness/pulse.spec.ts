import { randomBytes } from 'node:crypto';
import { DataKey } from '../data-key.js';
import { MAX_PULSE_BYTES, decodePulse, encodePulse, pulseKeyFor, pulseKeyFromText, verifyPulse } from './pulse.js';

describe('pulses', () => {
  const key = randomBytes(32);

  it('reads back what it wrote, and verifies only with the key it was signed with', () => {
    const datagram = encodePulse({ nodeId: 'agent-3', seq: 1_765_000_000_123 }, key);
    expect(datagram.length).toBeLessThan(150);
    const decoded = decodePulse(datagram);
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.value).toMatchObject({ nodeId: 'agent-3', seq: 1_765_000_000_123 });
    expect(verifyPulse(decoded.value, key)).toBe(true);
    expect(verifyPulse(decoded.value, randomBytes(32))).toBe(false);
  });

  it('fails the MAC of a pulse altered on the way: another node, another sequence', () => {
    const decoded = decodePulse(encodePulse({ nodeId: 'agent-3', seq: 10 }, key));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(verifyPulse({ ...decoded.value, nodeId: 'agent-2' }, key)).toBe(false);
    expect(verifyPulse({ ...decoded.value, seq: 11 }, key)).toBe(false);
    expect(verifyPulse({ ...decoded.value, mac: 'short' }, key)).toBe(false);
  });

  it('says why a datagram is not a pulse', () => {
    const reason = (datagram: Buffer) => {
      const decoded = decodePulse(datagram);
      return decoded.ok ? 'a pulse' : decoded.error;
    };
    expect(reason(Buffer.alloc(MAX_PULSE_BYTES + 1))).toBe('513 bytes, more than a pulse\'s 512');
    expect(reason(Buffer.from('hello'))).toBe('not JSON');
    expect(reason(Buffer.from('[1]'))).toBe('version undefined, expected 1');
    expect(reason(Buffer.from('{"v":2,"n":"a","s":1,"m":"x"}'))).toBe('version 2, expected 1');
    expect(reason(Buffer.from('{"v":1,"s":1,"m":"x"}'))).toBe('no node id');
    expect(reason(Buffer.from('{"v":1,"n":"a","s":-1,"m":"x"}'))).toBe('no sequence number');
    expect(reason(Buffer.from('{"v":1,"n":"a","s":1}'))).toBe('no MAC');
    expect(reason(Buffer.from('null'))).toBe('not a JSON object');
  });

  it('derives one key per node from the data key, the same for every holder of it', () => {
    const dataKey = DataKey.generate('test');
    const copy = DataKey.fromText(dataKey.toText(), 'a standby\'s grant');
    expect(pulseKeyFor(copy, 'agent-2').equals(pulseKeyFor(dataKey, 'agent-2'))).toBe(true);
    expect(pulseKeyFor(dataKey, 'agent-3').equals(pulseKeyFor(dataKey, 'agent-2'))).toBe(false);
    expect(pulseKeyFor(DataKey.generate('other'), 'agent-2').equals(pulseKeyFor(dataKey, 'agent-2'))).toBe(false);
  });

  it('reads a pulse key from its text, and nothing from a malformed one', () => {
    expect(pulseKeyFromText(key.toString('base64url'))?.equals(key)).toBe(true);
    expect(pulseKeyFromText(undefined)).toBeUndefined();
    expect(pulseKeyFromText('too-short')).toBeUndefined();
    expect(pulseKeyFromText('not base64url!')).toBeUndefined();
  });
});
