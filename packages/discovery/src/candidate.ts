/** How a candidate was found. */
export const CandidateSource = {
  Mdns: 'mdns',
  Scan: 'scan',
  Join: 'join',
} as const;
export type CandidateSource = (typeof CandidateSource)[keyof typeof CandidateSource];

/**
 * An orchestrator this node could join. Discovery only reports candidates: joining needs the
 * cluster's join token, and the join handshake is what proves a candidate genuine.
 */
export interface Candidate {
  /** Where the orchestrator's API answers, e.g. `http://10.0.0.5:4000` (no trailing slash). */
  url: string;
  source: CandidateSource;
  /** Unknown for a `--join` URL and for a scanned orchestrator that does not send the header. */
  clusterId: string | undefined;
  role: string | undefined;
  priority: number | undefined;
  protocolVersion: string | undefined;
  /**
   * False when the candidate states a protocol version whose major differs from this node's:
   * it is still reported (so the user can be told why it was not joined), but joining would fail.
   * True when the version is unknown.
   */
  compatible: boolean;
  /** The mDNS instance name (mDNS candidates only). */
  name?: string | undefined;
}

/** A `--join` URL (checked already): it tells nothing but where to ask. */
export function joinCandidate(url: string): Candidate {
  return {
    url,
    source: CandidateSource.Join,
    clusterId: undefined,
    role: undefined,
    priority: undefined,
    protocolVersion: undefined,
    compatible: true,
  };
}

/** An explicit URL is what the user asked for; mDNS states role and cluster; a scan knows least. */
const sourceRank: Record<CandidateSource, number> = { join: 0, mdns: 1, scan: 2 };

/**
 * The candidates in the order to try them, each URL once: `join` first, then `mdns`, then `scan`,
 * keeping the order given within a source (mDNS: as the answers came, a scan: by address). Where one
 * URL was found twice, the first sighting stays and only gains the cluster id it lacked.
 *
 * Candidates of one cluster at different URLs all stay: a killed leader's mDNS record lives for hours
 * (see the README), so dropping all but one per cluster could drop the reachable one.
 */
export function orderCandidates(candidates: readonly Candidate[]): Candidate[] {
  const byUrl = new Map<string, Candidate>();
  // Array.prototype.sort is stable, so each source keeps its own order
  const bySource = [...candidates].sort((a, b) => sourceRank[a.source] - sourceRank[b.source]);
  for (const candidate of bySource) {
    const seen = byUrl.get(candidate.url);
    if (seen === undefined) byUrl.set(candidate.url, candidate);
    else if (seen.clusterId === undefined && candidate.clusterId !== undefined)
      byUrl.set(candidate.url, { ...seen, clusterId: candidate.clusterId });
  }
  return [...byUrl.values()];
}
