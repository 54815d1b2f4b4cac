// Issue 21: the agent's memory under apps that flood their log. Every log line is a few short-lived
// objects on the worker (read, batched, published) and on the leader (decoded, stored, replicated),
// thousands a second. V8 answers a high allocation rate by growing its young generation up to a
// maximum it derives from the machine's RAM (a 128 MB new space on a 24 GB machine) and keeps it
// grown. Measured over 5 minutes with three apps at 2,000 lines/s each, a leading agent's RSS went
// 134 -> 310 MB with the default and 121 -> 200-235 MB with semi-spaces of 8 MB (a 16 MB new
// space), for the same CPU time (40-42 s); its old generation (what it really holds) stayed ~30 MB
// either way. So `kraken agent` runs with a bounded young generation.

/** The semi-space bound the agent runs with (V8's `--max-semi-space-size`, in MB). */
export const AGENT_MAX_SEMI_SPACE_MB = 8;

/** V8 takes its flags with dashes or underscores. */
const FLAG_NAMES = ['--max-semi-space-size', '--max_semi_space_size'];

/**
 * The arguments to run this process again with so that `kraken agent` gets its young-generation
 * bound, or undefined when it needs no relaunch: another command (short-lived client verbs), or
 * the flag already given (by this relaunch, or by an operator on the command line or in
 * NODE_OPTIONS, whose choice wins). `argv` and `execArgv` are process.argv and process.execArgv.
 */
export function relaunchArgs(argv: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): string[] | undefined {
  const [execPath, script, command] = argv;
  if (command !== 'agent' || execPath === undefined || script === undefined) return undefined;
  const given = (args: readonly string[]) => args.some((arg) => FLAG_NAMES.some((name) => arg === name || arg.startsWith(`${name}=`)));
  if (given(execArgv) || given((nodeOptions ?? '').split(/\s+/))) return undefined;
  // execArgv first: loaders and hooks (--import, --require) the process was started with still apply
  return [execPath, `--max-semi-space-size=${String(AGENT_MAX_SEMI_SPACE_MB)}`, ...execArgv, ...argv.slice(1)];
}
