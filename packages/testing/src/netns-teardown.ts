import { readFileSync } from 'node:fs';
import { runAllIgnoringErrors, runAllIgnoringErrorsSync, runCommand, runCommandSync } from './netns-exec.js';
import type { LabOwner } from './netns-plan.js';
import { bridgePrefix, parseLabAlias, ruleComment } from './netns-plan.js';

/** What one lab owns on the machine. Everything teardown deletes is matched by the lab's run id. */
export interface LabResources {
  bridge: string;
  runId: string;
  namespaces: readonly string[];
  veths: readonly string[];
}

/** The chains a lab opens for its bridge: Docker leaves FORWARD's policy at DROP, and bridged frames pass through it. */
export const labChains = ['FORWARD', 'DOCKER-USER'] as const;

/** Every chain a lab adds rules to (forwarding, and closing the host machine), so teardown looks in each. */
const labRuleChains = [...labChains, 'INPUT', 'OUTPUT'] as const;

/** `matches`, the lab's comment (what teardown and the sweep find its rules by), then `target`. */
function labRule(bridge: string, runId: string, matches: readonly string[], target: readonly string[]): string[] {
  return [...matches, '-m', 'comment', '--comment', `${ruleComment(bridge)}:${runId}`, ...target];
}

export function acceptRule(bridge: string, runId: string): string[] {
  return labRule(bridge, runId, ['-i', bridge, '-o', bridge], ['-j', 'ACCEPT']);
}

/**
 * `iptables -w` arguments that close the host machine to the lab, in the order to run them (each
 * inserts at the top, so the last one ends up first). The host machine has the bridge's address, so
 * anything it serves on 0.0.0.0 (a Kraken of its own, its apps) would answer the lab's hosts: a
 * subnet scan in the lab would find it. With these, lab hosts get only answers to connections the
 * machine opened and the ports a test opens with hostPortRule; other TCP is reset (as from a host
 * where nothing listens), everything else dropped, and the machine's own mDNS responders do not
 * advertise into the lab.
 */
export function hostIsolationRules(bridge: string, runId: string): string[][] {
  return [
    ['-I', 'INPUT', '1', ...labRule(bridge, runId, ['-i', bridge], ['-j', 'DROP'])],
    ['-I', 'INPUT', '1', ...labRule(bridge, runId, ['-i', bridge, '-p', 'tcp'], ['-j', 'REJECT', '--reject-with', 'tcp-reset'])],
    ['-I', 'INPUT', '1', ...labRule(bridge, runId, ['-i', bridge, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED'], ['-j', 'ACCEPT'])],
    ['-I', 'OUTPUT', '1', ...labRule(bridge, runId, ['-o', bridge, '-p', 'udp', '--dport', '5353'], ['-j', 'DROP'])],
  ];
}

/** `iptables -w` arguments that open one TCP port of the host machine to the lab's hosts (above the isolation rules). */
export function hostPortRule(bridge: string, runId: string, port: number): string[] {
  return ['-I', 'INPUT', '1', ...labRule(bridge, runId, ['-i', bridge, '-p', 'tcp', '--dport', String(port)], ['-j', 'ACCEPT'])];
}

const namespacePattern = /^kraken-[a-z0-9-]+-([0-9a-f]{8})-h\d+$/;

/** The run id in a lab namespace's name, or undefined for namespaces that are not a lab's. */
export function namespaceRunId(netns: string): string | undefined {
  return namespacePattern.exec(netns)?.[1];
}

/**
 * `iptables -S <chain>` lines that carry a lab's comment, turned into the `-D` arguments that delete
 * them. `runIds` limits it to those labs; without it every lab rule is returned (the sweep then
 * filters by liveness itself).
 */
export function labRuleDeletions(
  chain: string,
  listing: string,
  runIds?: ReadonlySet<string>,
): { runId: string; args: string[] }[] {
  const deletions: { runId: string; args: string[] }[] = [];
  for (const line of listing.split('\n')) {
    if (!line.startsWith(`-A ${chain} `)) continue;
    const tokens = line.split(/\s+/).map((token) => token.replace(/^"(.*)"$/, '$1'));
    const comment = tokens[tokens.indexOf('--comment') + 1] ?? '';
    const match = /^kraken-netns-lab:[a-z0-9]+:([0-9a-f]+)$/.exec(comment);
    const runId = match?.[1];
    if (runId === undefined || (runIds !== undefined && !runIds.has(runId))) continue;
    deletions.push({ runId, args: ['-D', ...tokens.slice(1)] });
  }
  return deletions;
}

function parsePids(pidsOutput: string): number[] {
  return pidsOutput
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

function bridgeAliasIsOurs(aliasJson: string, runId: string): boolean {
  try {
    const [link] = JSON.parse(aliasJson) as { ifalias?: string }[];
    return parseLabAlias(link?.ifalias)?.runId === runId;
  } catch {
    return false;
  }
}

function linkCommands(resources: LabResources): string[][] {
  return [
    ...resources.namespaces.map((ns) => ['ip', 'netns', 'delete', ns]),
    ...resources.veths.map((veth) => ['ip', 'link', 'delete', veth]),
  ];
}

/** SIGKILL to every process whose network namespace is `ns` (none when the namespace is gone). */
export async function killNamespaceProcesses(ns: string): Promise<void> {
  try {
    killAll(parsePids((await runCommand(['ip', 'netns', 'pids', ns])).stdout));
  } catch {
    // no such namespace
  }
}

/**
 * Removes a lab: kills what runs in its namespaces, deletes namespaces, veths, the bridge (only
 * while its alias still names this run, so a bridge another lab has since claimed survives) and
 * the iptables rules tagged with this run. Safe to call again and on a half-made lab.
 */
export async function teardownLab(resources: LabResources): Promise<void> {
  for (const ns of resources.namespaces) await killNamespaceProcesses(ns);
  await runAllIgnoringErrors(linkCommands(resources));
  try {
    const link = await runCommand(['ip', '-j', 'link', 'show', 'dev', resources.bridge]);
    if (bridgeAliasIsOurs(link.stdout, resources.runId)) await runAllIgnoringErrors([['ip', 'link', 'delete', resources.bridge]]);
  } catch {
    // bridge already gone
  }
  for (const chain of labRuleChains) {
    try {
      const listing = (await runCommand(['iptables', '-w', '-S', chain])).stdout;
      await runAllIgnoringErrors(
        labRuleDeletions(chain, listing, new Set([resources.runId])).map(({ args }) => ['iptables', '-w', ...args]),
      );
    } catch {
      // chain missing (no Docker): nothing was added to it
    }
  }
}

/** teardownLab for process 'exit' handlers, which cannot wait for promises. */
export function teardownLabSync(resources: LabResources): void {
  for (const ns of resources.namespaces) {
    try {
      killAll(parsePids(runCommandSync(['ip', 'netns', 'pids', ns])));
    } catch {
      // no such namespace
    }
  }
  runAllIgnoringErrorsSync(linkCommands(resources));
  try {
    if (bridgeAliasIsOurs(runCommandSync(['ip', '-j', 'link', 'show', 'dev', resources.bridge]), resources.runId)) {
      runAllIgnoringErrorsSync([['ip', 'link', 'delete', resources.bridge]]);
    }
  } catch {
    // bridge already gone
  }
  for (const chain of labRuleChains) {
    try {
      const listing = runCommandSync(['iptables', '-w', '-S', chain]);
      runAllIgnoringErrorsSync(
        labRuleDeletions(chain, listing, new Set([resources.runId])).map(({ args }) => ['iptables', '-w', ...args]),
      );
    } catch {
      // chain missing
    }
  }
}

/** Process start time in clock ticks since boot (/proc/<pid>/stat field 22), or undefined once it is gone. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ...": comm may hold spaces, so count fields after the last ')'; starttime is field 22
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(owner: LabOwner): boolean {
  return processStartTicks(owner.pid) === owner.startTicks;
}

interface BridgeLink {
  ifname: string;
  ifalias?: string;
}

async function labBridges(): Promise<{ bridge: string; owner: LabOwner }[]> {
  const links = JSON.parse((await runCommand(['ip', '-j', 'link', 'show', 'type', 'bridge'])).stdout) as BridgeLink[];
  return links.flatMap((link) => {
    const owner = link.ifname.startsWith(bridgePrefix) ? parseLabAlias(link.ifalias) : undefined;
    return owner === undefined ? [] : [{ bridge: link.ifname, owner }];
  });
}

/**
 * Removes what labs of dead processes left behind (a test process killed with SIGKILL runs no exit
 * handler). Labs whose owner still runs are left alone. Namespaces and rules are listed before the
 * bridges: a lab makes its bridge (with the owner alias) first, so anything listed earlier whose
 * run has no bridge afterwards cannot belong to a lab being made right now.
 */
export async function sweepStaleLabs(): Promise<void> {
  const namespaces = (await runCommand(['ip', 'netns', 'list']).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => namespaceRunId(ns) !== undefined);
  const rules: { chain: string; runId: string; args: string[] }[] = [];
  for (const chain of labRuleChains) {
    const listing = await runCommand(['iptables', '-w', '-S', chain]).catch(() => ({ stdout: '' }));
    rules.push(...labRuleDeletions(chain, listing.stdout).map((rule) => ({ chain, ...rule })));
  }
  let bridges: { bridge: string; owner: LabOwner }[];
  try {
    bridges = await labBridges();
  } catch {
    return; // no iproute2 JSON: nothing this module could have made
  }
  const liveRuns = new Set(bridges.filter(({ owner }) => ownerAlive(owner)).map(({ owner }) => owner.runId));
  for (const { bridge, owner } of bridges) {
    if (liveRuns.has(owner.runId)) continue;
    const veths = await bridgePorts(bridge);
    await teardownLab({
      bridge,
      runId: owner.runId,
      namespaces: namespaces.filter((ns) => namespaceRunId(ns) === owner.runId),
      veths,
    });
  }
  const orphanNamespaces = namespaces.filter((ns) => !liveRuns.has(namespaceRunId(ns) ?? ''));
  for (const runId of new Set(orphanNamespaces.map((ns) => namespaceRunId(ns) ?? ''))) {
    await teardownLab({
      bridge: '',
      runId,
      namespaces: orphanNamespaces.filter((ns) => namespaceRunId(ns) === runId),
      veths: [],
    });
  }
  await runAllIgnoringErrors(rules.filter(({ runId }) => !liveRuns.has(runId)).map(({ args }) => ['iptables', '-w', ...args]));
}

async function bridgePorts(bridge: string): Promise<string[]> {
  try {
    const links = JSON.parse((await runCommand(['ip', '-j', 'link', 'show', 'master', bridge])).stdout) as { ifname: string }[];
    return links.map((link) => link.ifname);
  } catch {
    return [];
  }
}
