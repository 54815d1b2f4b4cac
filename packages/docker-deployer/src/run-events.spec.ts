import { memoryLimitCause } from '@kraken/runtime';
import { runEventOf, runEventReader } from './run-events.js';

const attributes = { 'org.kraken.deployment': 'd1', 'org.kraken.role': 'app', exitCode: '1', name: 'kraken-n1-d1' };

describe('runEventOf', () => {
  it('reads a die event as an exit with its code and time', () => {
    expect(runEventOf({ Action: 'die', timeNano: 1_765_000_003_250_000_000, Actor: { Attributes: attributes } })).toEqual({
      kind: 'exit',
      deploymentId: 'd1',
      at: new Date(1_765_000_003_250),
      code: 1,
    });
  });

  it('reads a start event as a start, falling back to the time in seconds', () => {
    expect(runEventOf({ Action: 'start', time: 1_765_000_000, Actor: { Attributes: attributes } })).toEqual({ kind: 'start', deploymentId: 'd1', at: new Date(1_765_000_000_000) });
  });

  it('leaves the code out when the engine gives none', () => {
    expect(runEventOf({ Action: 'die', time: 1, Actor: { Attributes: { 'org.kraken.deployment': 'd1' } } })).not.toHaveProperty('code');
  });

  it("names the memory limit as the cause of a die that followed the container's oom, and only of that one", () => {
    const read = runEventReader();
    const limited = { ...attributes, exitCode: '137', 'org.kraken.memory-mb': '64' };
    expect(read({ Action: 'oom', time: 1, Actor: { ID: 'c1', Attributes: limited } })).toBeUndefined();
    expect(read({ Action: 'die', time: 2, Actor: { ID: 'c1', Attributes: limited } })).toEqual({
      kind: 'exit',
      deploymentId: 'd1',
      at: new Date(2000),
      code: 137,
      cause: 'it went past its memory limit of 64 MB',
    });
    // the next die of the restarted container is its own: no oom came before it
    expect(read({ Action: 'die', time: 3, Actor: { ID: 'c1', Attributes: limited } })).not.toHaveProperty('cause');
    // a container made before the label existed: the limit is not named
    expect(runEventOf({ Action: 'die', time: 4, Actor: { ID: 'c2', Attributes: attributes } }, true)).toMatchObject({ cause: memoryLimitCause() });
    expect(memoryLimitCause()).toBe('it went past its memory limit');
  });

  it('ignores containers without a deployment label and other actions', () => {
    expect(runEventOf({ Action: 'die', time: 1, Actor: { Attributes: { exitCode: '0' } } })).toBeUndefined();
    expect(runEventOf({ Action: 'oom', time: 1, Actor: { Attributes: attributes } })).toBeUndefined();
  });
});
