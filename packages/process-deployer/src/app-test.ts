import { DeployStep } from '@kraken/runtime';
import type { StepLine } from '@kraken/runtime';
import { runCommand } from './commands.js';
import type { RunAs } from './commands.js';
import type { CompiledProcessOptions } from './options.js';
import { assertSucceeded } from './prepare.js';

/** The manifest's test command in the build's checkout; a failure names the command, its exit and its last output lines. */
export async function runAppTest(input: {
  deploymentId: string;
  command: string;
  cwd: string;
  env: Readonly<Record<string, string>>;
  options: Pick<CompiledProcessOptions, 'shell' | 'testTimeoutMs' | 'errorTailLines'>;
  signal: AbortSignal;
  runAs: RunAs | undefined;
  line: StepLine;
}): Promise<void> {
  const { options } = input;
  const outcome = await runCommand([options.shell, '-c', input.command], {
    cwd: input.cwd,
    env: input.env,
    timeoutMs: options.testTimeoutMs,
    tailLines: options.errorTailLines,
    signal: input.signal,
    runAs: input.runAs,
    onLine: (_stream, text) => {
      input.line('test', text);
    },
  });
  assertSucceeded(outcome, {
    deploymentId: input.deploymentId,
    what: `the test command (${input.command})`,
    timeoutMs: options.testTimeoutMs,
    missing: `the shell ${options.shell} could not be started`,
    step: DeployStep.Test,
  });
}
