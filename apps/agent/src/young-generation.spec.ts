import { AGENT_MAX_SEMI_SPACE_MB, relaunchArgs } from './young-generation.js';

const NODE = '/usr/bin/node';
const CLI = '/opt/kraken/dist/cli.js';

describe('relaunchArgs', () => {
  it('relaunches `kraken agent` with the semi-space bound, keeping node flags, the script and its arguments', () => {
    expect(relaunchArgs([NODE, CLI, 'agent', '--no-mdns'], ['--import', 'hook.mjs'], undefined)).toEqual([
      NODE,
      `--max-semi-space-size=${String(AGENT_MAX_SEMI_SPACE_MB)}`,
      '--import',
      'hook.mjs',
      CLI,
      'agent',
      '--no-mdns',
    ]);
  });

  it('leaves client verbs alone: they are short-lived and a relaunch would only slow them', () => {
    expect(relaunchArgs([NODE, CLI, 'status'], [], undefined)).toBeUndefined();
    expect(relaunchArgs([NODE, CLI], [], undefined)).toBeUndefined();
  });

  it('does not relaunch once the bound is set, so the relaunched process runs on', () => {
    const [, bound] = relaunchArgs([NODE, CLI, 'agent'], [], undefined) ?? [];
    // node moves its own flags from argv to execArgv
    expect(bound).toBeDefined();
    expect(relaunchArgs([NODE, CLI, 'agent'], [bound ?? ''], undefined)).toBeUndefined();
  });

  it("keeps an operator's own choice, on the command line or in NODE_OPTIONS, with dashes or underscores", () => {
    expect(relaunchArgs([NODE, CLI, 'agent'], ['--max-semi-space-size=32'], undefined)).toBeUndefined();
    expect(relaunchArgs([NODE, CLI, 'agent'], ['--max_semi_space_size', '2'], undefined)).toBeUndefined();
    expect(relaunchArgs([NODE, CLI, 'agent'], [], '--enable-source-maps --max-semi-space-size=16')).toBeUndefined();
    expect(relaunchArgs([NODE, CLI, 'agent'], ['--max-old-space-size=512'], '--enable-source-maps')).toContain('--max-old-space-size=512');
  });
});
