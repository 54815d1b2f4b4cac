import type { Candidate } from './candidate.js';
import { orderCandidates } from './candidate.js';

const candidate = (url: string, source: Candidate['source'], clusterId?: string): Candidate => ({
  url,
  source,
  clusterId,
  role: source === 'mdns' ? 'orchestrator' : undefined,
  priority: undefined,
  protocolVersion: undefined,
  compatible: true,
});

describe('orderCandidates', () => {
  it('puts an explicit URL first, then mDNS, then the scan, keeping the order within each source', () => {
    const ordered = orderCandidates([
      candidate('http://10.0.0.9:4000', 'scan'),
      candidate('http://10.0.0.7:4000', 'mdns', 'b'),
      candidate('http://10.0.0.2:4000', 'scan'),
      candidate('http://10.0.0.5:4000', 'mdns', 'a'),
      candidate('http://10.0.0.1:4000', 'join'),
    ]);

    expect(ordered.map((c) => `${c.source} ${c.url}`)).toEqual([
      'join http://10.0.0.1:4000',
      'mdns http://10.0.0.7:4000',
      'mdns http://10.0.0.5:4000',
      'scan http://10.0.0.9:4000',
      'scan http://10.0.0.2:4000',
    ]);
  });

  it('lists a URL found by mDNS and by the scan once, as mDNS found it', () => {
    const byMdns = candidate('http://10.0.0.5:4000', 'mdns', 'a');

    expect(orderCandidates([candidate('http://10.0.0.5:4000', 'scan', 'a'), byMdns])).toEqual([byMdns]);
  });

  it('keeps the first sighting of a URL and adds the cluster id a later one knows', () => {
    const ordered = orderCandidates([candidate('http://10.0.0.5:4000', 'scan'), candidate('http://10.0.0.5:4000', 'scan', 'a')]);

    expect(ordered).toEqual([candidate('http://10.0.0.5:4000', 'scan', 'a')]);
  });

  it('keeps every URL of one cluster, since a stale address of it may be the first one found', () => {
    const ordered = orderCandidates([
      candidate('http://10.0.0.5:4000', 'mdns', 'a'),
      candidate('http://10.0.0.6:4000', 'mdns', 'a'),
    ]);

    expect(ordered.map((c) => c.url)).toEqual(['http://10.0.0.5:4000', 'http://10.0.0.6:4000']);
  });

  it('returns nothing for nothing', () => {
    expect(orderCandidates([])).toEqual([]);
  });
});
