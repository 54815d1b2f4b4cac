import { labRuleDeletions, namespaceRunId } from './netns-teardown.js';

const listing = [
  '-P FORWARD DROP',
  '-A FORWARD -i krk0a4d05 -o krk0a4d05 -m comment --comment "kraken-netns-lab:krk0a4d05:abcd1234" -j ACCEPT',
  '-A FORWARD -i krk0a4d06 -o krk0a4d06 -m comment --comment "kraken-netns-lab:krk0a4d06:feedbeef" -j ACCEPT',
  '-A FORWARD -j DOCKER-USER',
  '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
].join('\n');

describe('labRuleDeletions', () => {
  it("turns a lab's rules into the -D arguments that delete exactly them", () => {
    expect(labRuleDeletions('FORWARD', listing, new Set(['abcd1234']))).toEqual([
      {
        runId: 'abcd1234',
        args: [
          '-D',
          'FORWARD',
          '-i',
          'krk0a4d05',
          '-o',
          'krk0a4d05',
          '-m',
          'comment',
          '--comment',
          'kraken-netns-lab:krk0a4d05:abcd1234',
          '-j',
          'ACCEPT',
        ],
      },
    ]);
  });

  it('lists every lab rule and nothing else when no run is named', () => {
    expect(labRuleDeletions('FORWARD', listing).map((rule) => rule.runId)).toEqual(['abcd1234', 'feedbeef']);
    expect(labRuleDeletions('DOCKER-USER', listing)).toEqual([]);
  });
});

describe('namespaceRunId', () => {
  it('reads the run id from lab namespace names only', () => {
    expect(namespaceRunId('kraken-disc-abcd1234-h12')).toBe('abcd1234');
    expect(namespaceRunId('kraken-my-lab-abcd1234-h1')).toBe('abcd1234');
    expect(namespaceRunId('cni-1234')).toBeUndefined();
  });
});
