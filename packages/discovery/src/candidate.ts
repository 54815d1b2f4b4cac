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
