/**
 * Whether two commit ids name the same commit (branchMoved and the failover builds compare by it).
 * Workers may report an abbreviated commit (at least 7 hex digits) while ls-remote gives all 40,
 * and git prints hex in either case.
 */
export function sameCommit(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.startsWith(y) || y.startsWith(x);
}
