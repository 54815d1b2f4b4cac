import { ErrorCode } from '@kraken/common';
import { MAX_MANIFEST_BYTES, ManifestError, parseManifest, safeParseManifest } from './index.js';
import type { ManifestProblem } from './index.js';

/** The problems parseManifest reports for `text` (fails the test if it parses). */
function problemsOf(text: string): readonly ManifestProblem[] {
  const result = safeParseManifest(text);
  if (result.ok) throw new Error('expected the manifest to be refused');
  return result.error.problems;
}

function problemFor(text: string, field: string): ManifestProblem {
  const problem = problemsOf(text).find((p) => p.field === field);
  if (!problem) throw new Error(`no problem for ${field}: ${JSON.stringify(problemsOf(text))}`);
  return problem;
}

const APP = '[app]\nname = "demo"\nversion = "1.0.0"\n';
/** A manifest whose line 5 is `[config]`, so config keys start on line 6. */
const withConfig = (config: string) => `${APP}\n[config]\n${config}\n`;

describe('parseManifest: TOML syntax errors', () => {
  it('reports the line and column of a syntax error, with the offending line', () => {
    const text = '[app]\nname = "demo"\nversion = \n';
    expect(() => parseManifest(text, { file: 'repo/shipwreck.toml' })).toThrow(ManifestError);
    const error = safeParseManifest(text, { file: 'repo/shipwreck.toml' });
    if (error.ok) throw new Error('expected failure');
    expect(error.error.code).toBe(ErrorCode.InvalidManifest);
    expect(error.error.file).toBe('repo/shipwreck.toml');
    expect(error.error.problems).toEqual([expect.objectContaining({ field: '', line: 3, column: 11 })]);
    expect(error.error.message).toMatch(/^repo\/shipwreck\.toml:3:11: invalid TOML: /);
    expect(error.error.message).toContain('3:  version = ');
  });

  it('reports a key defined twice as a syntax error on its second line', () => {
    expect(problemsOf(`${APP}name = "again"\n`)[0]).toMatchObject({
      line: 4,
      message: expect.stringContaining('invalid TOML') as string,
    });
  });
});

describe('parseManifest: structure', () => {
  it('reports both missing tables at once', () => {
    expect(problemsOf('# nothing here\n').map((p) => [p.field, p.message])).toEqual([
      ['app', 'missing [app] table; add an [app] table with at least name and version'],
      ['config', expect.stringContaining('missing [config] table')],
    ]);
  });

  it('refuses a table written as a plain value', () => {
    expect(problemFor(`config = "node"\n${APP}`, 'config').message).toBe('must be a table ([config]); got the string "node"');
  });

  it('names an unknown key with its line and the closest known key', () => {
    const text = withConfig('lang = "node"\nrun = "npm start"\nprot = 3000');
    expect(problemFor(text, 'config.prot')).toEqual({
      field: 'config.prot',
      line: 8,
      message: "unknown key; did you mean 'port'?",
    });
    expect(new ManifestError('shipwreck.toml', [problemFor(text, 'config.prot')]).message).toBe(
      "shipwreck.toml:8: config.prot: unknown key; did you mean 'port'?",
    );
  });

  it('says which table a key belongs in when it is in the wrong one', () => {
    const text = `[app]\nname = "demo"\nversion = "1"\nport = 80\n\n[config]\nlang = "static"\nauthor = "Ada"\n`;
    expect(problemFor(text, 'app.port')).toMatchObject({
      line: 4,
      message: "unknown key; 'port' belongs in [config]",
    });
    expect(problemFor(text, 'config.author').message).toBe("unknown key; 'author' belongs in [app]");
  });

  it('suggests from synonyms and prefixes, and lists the keys when nothing is close', () => {
    const text = withConfig('language = "node"\ncommand = "npm start"\nwhatever = 1');
    expect(problemFor(text, 'config.language').message).toBe("unknown key; did you mean 'lang'?");
    expect(problemFor(text, 'config.command').message).toBe("unknown key; did you mean 'run'?");
    expect(problemFor(text, 'config.whatever').message).toBe(
      'unknown key; known keys in [config]: lang, port, run, test, env, memory, cpus, root, dockerfile',
    );
  });

  it('points a top-level [env] table at [config.env]', () => {
    const text = `${withConfig('lang = "static"')}\n[env]\nA = "1"\n`;
    expect(problemFor(text, 'env').message).toBe(
      "unknown key; environment variables go in [config.env] (or the original Kraken's [env-vars])",
    );
  });
});

describe('parseManifest: [app] values', () => {
  it('refuses a name that cannot be a container name, suggesting one that can', () => {
    const problem = problemFor(`[app]\nname = "My App!"\nversion = "1"\n[config]\nlang = "static"\n`, 'app.name');
    expect(problem.line).toBe(2);
    expect(problem.message).toMatch(/^must be 1 to 63 characters of a-z, 0-9 and '-'.*; got the string "My App!"; try "my-app"$/);
  });

  it('refuses a name longer than 63 characters', () => {
    expect(problemFor(`[app]\nname = "${'a'.repeat(64)}"\nversion = "1"\n[config]\nlang = "static"\n`, 'app.name')).toBeDefined();
  });

  it('reports a missing name and an empty version at the [app] line and their own', () => {
    const problems = problemsOf('[app]\nversion = " "\n[config]\nlang = "static"\n');
    expect(problems).toEqual([
      {
        field: 'app.name',
        line: 1,
        message: expect.stringMatching(/^missing; must be 1 to 63 characters/) as string,
      },
      {
        field: 'app.version',
        line: 2,
        message: 'must be a non-empty string such as "1.0.0"; got the string " "',
      },
    ]);
  });

  it('refuses an endpoint that is not a path', () => {
    expect(
      problemFor(`[app]\nname = "a"\nversion = "1"\nendpoint = "health"\n[config]\nlang = "static"\n`, 'app.endpoint').message,
    ).toBe('must be a path starting with "/", such as "/" or "/status"; got the string "health"');
  });
});

describe('parseManifest: [config] values', () => {
  it('lists the supported languages for an unknown one', () => {
    const problem = problemFor(withConfig('lang = "ruby"\nrun = "ruby app.rb"'), 'config.lang');
    expect(problem.line).toBe(6);
    expect(problem.message).toMatch(/^"ruby" is not supported; use one of node, python3 \(alias python\), static, custom/);
  });

  it('requires lang', () => {
    expect(problemFor(withConfig('run = "x"'), 'config.lang').message).toBe(
      'missing; must be one of node, python3 (alias python), static, custom',
    );
  });

  it.each([
    ['0', 'got 0'],
    ['65536', 'got 65536'],
    ['80.5', 'got 80.5'],
    ['"3000"', 'got the string "3000" (write the number without quotes)'],
    ['true', 'got true'],
  ])('refuses port = %s', (value, got) => {
    const problem = problemFor(withConfig(`lang = "static"\nport = ${value}`), 'config.port');
    expect(problem).toEqual({
      field: 'config.port',
      line: 7,
      message: `must be a whole number from 1 to 65535 (the port the app listens on inside its container); ${got}`,
    });
  });

  it('requires run for node and python3, and refuses a blank one', () => {
    expect(problemFor(withConfig('lang = "node"'), 'config.run')).toEqual({
      field: 'config.run',
      line: 5,
      message: 'missing; node apps need the command that starts them, such as run = "npm start"',
    });
    expect(problemFor(withConfig('lang = "python"\nrun = ""'), 'config.run').message).toBe(
      'empty; python3 apps need the command that starts them, such as run = "python3 app.py"',
    );
  });

  it('refuses a command that is not a string', () => {
    expect(problemFor(withConfig('lang = "node"\nrun = ["npm", "start"]'), 'config.run').message).toBe(
      'must be a shell command (a string); got an array',
    );
  });

  it('refuses root and dockerfile for languages that do not use them', () => {
    const text = withConfig('lang = "node"\nrun = "npm start"\nroot = "public"\ndockerfile = "Dockerfile"');
    expect(problemFor(text, 'config.root').message).toMatch(/^only used with lang = "static"/);
    expect(problemFor(text, 'config.dockerfile').message).toMatch(/^only used with lang = "custom"/);
  });

  it('refuses paths that leave the repository', () => {
    expect(problemFor(withConfig('lang = "static"\nroot = "../secrets"'), 'config.root').message).toMatch(
      /^must be a relative path inside the repository/,
    );
    expect(problemFor(withConfig('lang = "custom"\ndockerfile = "/etc/Dockerfile"'), 'config.dockerfile')).toBeDefined();
  });

  it.each([
    ['"lots"', 'got the string "lots"'],
    ['"512"', 'got the string "512" (add a unit such as "512m", or write megabytes as a number without quotes)'],
    ['"1.3g"', 'got the string "1.3g"'],
    ['3', 'got 3'],
    ['"2048g"', 'got the string "2048g"'],
  ])('refuses memory = %s', (value, got) => {
    expect(problemFor(withConfig(`lang = "static"\nmemory = ${value}`), 'config.memory').message).toBe(
      `must be a size such as "512m" or "1g", or a whole number of megabytes, from 6m to 1024g; ${got}`,
    );
  });

  it.each(['0', '65', '"2"', 'inf'])('refuses cpus = %s', (value) => {
    expect(problemFor(withConfig(`lang = "static"\ncpus = ${value}`), 'config.cpus').message).toMatch(
      /^must be a number of CPUs above 0 and at most 64/,
    );
  });
});

describe('parseManifest: environment', () => {
  it('refuses a [config.env] name a shell cannot use, suggesting one it can', () => {
    expect(problemFor(withConfig('lang = "static"\n[config.env]\nMY-VAR = "x"'), 'config.env.MY-VAR')).toEqual({
      field: 'config.env.MY-VAR',
      line: 8,
      message: `"MY-VAR" is not a valid environment variable name; use letters, digits and '_', not starting with a digit (such as MY_VAR)`,
    });
  });

  it('quotes names that are not bare keys in the field', () => {
    expect(problemFor(withConfig('lang = "static"\n[config.env]\n"MY VAR" = "x"'), 'config.env."MY VAR"').line).toBe(8);
  });

  it('still refuses names starting with a digit in [env-vars]', () => {
    expect(problemFor(`${withConfig('lang = "static"')}[env-vars]\n1ST = "x"\n`, 'env-vars.1ST').message).toContain(
      '(such as _1ST)',
    );
  });

  it('refuses a variable set in both [config.env] and [env-vars], naming both places', () => {
    const text = `${withConfig('lang = "static"\n[config.env]\nAPI_URL = "a"')}\n[env-vars]\nAPI_URL = "b"\n`;
    expect(problemFor(text, 'env-vars.API_URL')).toEqual({
      field: 'env-vars.API_URL',
      line: 11,
      message: 'API_URL is set in both [config.env] (line 8) and [env-vars] (line 11); keep one',
    });
  });

  it('refuses values that are not strings, numbers or booleans', () => {
    expect(problemFor(withConfig('lang = "static"\nenv = { LIST = [1, 2] }'), 'config.env.LIST').message).toBe(
      'must be a string (numbers and booleans are turned into strings); got an array',
    );
    expect(problemFor(withConfig('lang = "static"\nenv = "A=1"'), 'config.env').message).toBe(
      'must be a table of NAME = "value" lines; got the string "A=1"',
    );
  });

  it('checks [env-vars] even when [config] is missing', () => {
    expect(problemsOf(`${APP}[env-vars]\n"bad name" = "x"\n`).map((p) => p.field)).toEqual(['config', 'env-vars."bad name"']);
  });
});

describe('parseManifest: reporting', () => {
  it('reports every problem at once, in file order, in a multi-line message', () => {
    const text = [
      '[app]',
      'name = "Bad_Name"',
      'version = "1"',
      '',
      '[config]',
      'lang = "ruby"',
      'port = 70000',
      'memory = "huge"',
      'cpu = 2',
    ].join('\n');
    const result = safeParseManifest(text);
    if (result.ok) throw new Error('expected failure');
    expect(result.error.problems.map((p) => [p.line, p.field])).toEqual([
      [2, 'app.name'],
      [6, 'config.lang'],
      [7, 'config.port'],
      [8, 'config.memory'],
      [9, 'config.cpu'],
    ]);
    const lines = result.error.message.split('\n');
    expect(lines[0]).toBe('shipwreck.toml has 5 problems:');
    expect(lines.slice(1).map((line) => line.slice(0, line.indexOf(': ', 20)))).toEqual([
      '  shipwreck.toml:2: app.name',
      '  shipwreck.toml:6: config.lang',
      '  shipwreck.toml:7: config.port',
      '  shipwreck.toml:8: config.memory',
      '  shipwreck.toml:9: config.cpu',
    ]);
    expect(result.error.details).toEqual({
      file: 'shipwreck.toml',
      problems: result.error.problems,
    });
  });

  it('refuses a file larger than the limit without parsing it', () => {
    const huge = `${withConfig('lang = "static"')}# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`;
    const problems = problemsOf(huge);
    expect(problems).toEqual([
      {
        field: '',
        message: expect.stringMatching(/^is 257 KiB, more than the 256 KiB a manifest may be/) as string,
      },
    ]);
  });

  it('throws from parseManifest and returns from safeParseManifest', () => {
    expect(() => parseManifest('')).toThrow(/app: missing \[app\] table/);
    expect(safeParseManifest('').ok).toBe(false);
  });
});
