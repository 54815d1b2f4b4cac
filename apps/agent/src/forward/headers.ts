// The headers of forwarded API requests, apart from the proxy so that client verbs can read them
// without loading it.

/** Names the leader that answered a forwarded request: `<node id> <API URL>`. */
export const LEADER_HEADER = 'x-kraken-leader';
/** The agents a request was forwarded through, in order, comma-separated: a loop is refused. */
export const FORWARDED_BY_HEADER = 'x-kraken-forwarded-by';

/** The leader an X-Kraken-Leader header names; undefined for an absent or malformed one. */
export function parseLeaderHeader(value: string | null | undefined): { nodeId: string; apiUrl: string } | undefined {
  const match = /^(\S+) (https?:\/\/\S+)$/.exec(value?.trim() ?? '');
  return match?.[1] === undefined || match[2] === undefined ? undefined : { nodeId: match[1], apiUrl: match[2] };
}
