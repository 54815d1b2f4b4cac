import { Lang, parseManifest, safeParseManifest } from './index.js';

const manifest = (config: string, app = 'name = "demo"\nversion = "1.0.0"') => `[app]\n${app}\n\n[config]\n${config}\n`;

describe('parseManifest: valid manifests', () => {
  it('reads a node manifest with every field and normalises it', () => {
    const text = `
[app]
name = "Shop-API"
version = "2.3.1"
author = "Ada"
endpoint = "/health"

[config]
lang = "node"
port = 3000
run = "npm start"
test = "npm test"
memory = "512m"
cpus = 1.5

[config.env]
NODE_ENV = "production"
WORKERS = 4
DEBUG = false
`;
    expect(parseManifest(text)).toEqual({
      app: {
        name: 'shop-api',
        version: '2.3.1',
        author: 'Ada',
        endpoint: '/health',
      },
      config: {
        lang: 'node',
        port: 3000,
        run: 'npm start',
        test: 'npm test',
        env: { NODE_ENV: 'production', WORKERS: '4', DEBUG: 'false' },
        limits: { memoryMb: 512, cpus: 1.5 },
      },
    });
  });

  it('defaults the endpoint to "/" and leaves author, port, test and limits unset', () => {
    const parsed = parseManifest(manifest('lang = "python3"\nrun = "python3 app.py"'));
    expect(parsed).toEqual({
      app: { name: 'demo', version: '1.0.0', endpoint: '/' },
      config: { lang: 'python3', run: 'python3 app.py', env: {}, limits: {} },
    });
  });

  it('accepts "python" as an alias of python3 and ignores case in lang', () => {
    expect(parseManifest(manifest('lang = "python"\nrun = "python3 app.py"')).config.lang).toBe(Lang.Python3);
    expect(parseManifest(manifest('lang = "Node"\nrun = "node index.js"')).config.lang).toBe(Lang.Node);
  });

  it('lets a static site omit run and port, serving "." on port 80', () => {
    expect(parseManifest(manifest('lang = "static"')).config).toEqual({
      lang: 'static',
      port: 80,
      env: {},
      limits: {},
      root: '.',
    });
  });

  it('normalises a static root to a clean relative path', () => {
    expect(parseManifest(manifest('lang = "static"\nroot = "./public/"\nport = 8081')).config).toMatchObject({
      root: 'public',
      port: 8081,
    });
  });

  it('builds custom apps from "Dockerfile" unless told otherwise, with run optional', () => {
    expect(parseManifest(manifest('lang = "custom"\nport = 8080')).config).toEqual({
      lang: 'custom',
      port: 8080,
      env: {},
      limits: {},
      dockerfile: 'Dockerfile',
    });
    expect(
      parseManifest(manifest('lang = "custom"\ndockerfile = "docker/prod.Dockerfile"\nrun = "serve --fast"')).config,
    ).toMatchObject({
      dockerfile: 'docker/prod.Dockerfile',
      run: 'serve --fast',
    });
  });

  it('treats a blank test as "no test step"', () => {
    expect(parseManifest(manifest('lang = "node"\nrun = "npm start"\ntest = "   "')).config.test).toBeUndefined();
  });

  it('keeps a numeric version as written (old manifests say version = 1.0)', () => {
    expect(parseManifest(manifest('lang = "static"', 'name = "demo"\nversion = 1.0')).app.version).toBe('1.0');
    expect(parseManifest(manifest('lang = "static"', 'name = "demo"\nversion = 2 # major')).app.version).toBe('2');
  });

  it('keeps numeric environment values as written and stringifies booleans', () => {
    const parsed = parseManifest(manifest('lang = "static"\nenv = { RATE = 1.50, ON = true, BIG = 1e3 }'));
    expect(parsed.config.env).toEqual({
      RATE: '1.50',
      ON: 'true',
      BIG: '1000',
    });
  });

  it('reads memory sizes in m, g and plain megabytes', () => {
    const memory = (value: string) => parseManifest(manifest(`lang = "static"\nmemory = ${value}`)).config.limits.memoryMb;
    expect(memory('"512m"')).toBe(512);
    expect(memory('"1g"')).toBe(1024);
    expect(memory('"1.5GB"')).toBe(1536);
    expect(memory('"256 MiB"')).toBe(256);
    expect(memory('2048')).toBe(2048);
  });

  it('ignores a byte-order mark at the start of the file', () => {
    expect(parseManifest(`\uFEFF${manifest('lang = "static"')}`).app.name).toBe('demo');
  });

  it('returns a frozen manifest', () => {
    const parsed = parseManifest(manifest('lang = "static"\n[config.env]\nA = "1"'));
    expect(Object.isFrozen(parsed.config.env)).toBe(true);
    expect(Object.isFrozen(parsed.app)).toBe(true);
  });

  it('returns ok from safeParseManifest for a valid manifest', () => {
    const result = safeParseManifest(manifest('lang = "static"'));
    expect(result.ok && result.value.config.lang).toBe('static');
  });
});

describe('parseManifest: manifests written for the original Kraken', () => {
  // Verbatim from the original Kraken's example apps.
  it('reads a python3 app with an empty test, no port, a URL endpoint and [env-vars]', () => {
    const text =
      '[app]\nname="scapegoat"\nversion="1.0.0"\nauthor="Ethan Shry"\nendpoint="https://github.com/ethanshry/scapegoat"\n\n' +
      '[config]\nlang="python3"\ntest=""\nrun="python3 ./src/main.py"\n\n\n[env-vars]\ntest-var="test-var content"\n\n';
    expect(parseManifest(text)).toEqual({
      app: {
        name: 'scapegoat',
        version: '1.0.0',
        author: 'Ethan Shry',
        endpoint: '/',
      },
      config: {
        lang: 'python3',
        run: 'python3 ./src/main.py',
        env: { 'test-var': 'test-var content' },
        limits: {},
      },
    });
  });

  it('reads a node app with [env-vars]', () => {
    const text =
      '[app]\nname="scapenode"\nversion="1.0.0"\nauthor="Ethan Shry"\nendpoint="https://github.com/ethanshry/scapenode"\n\n' +
      '[config]\nport=7211\nlang="node"\ntest="npm test"\nrun="npm start"\n\n\n[env-vars]\ntest-var="test-var content"';
    expect(parseManifest(text).config).toEqual({
      lang: 'node',
      port: 7211,
      run: 'npm start',
      test: 'npm test',
      env: { 'test-var': 'test-var content' },
      limits: {},
    });
  });

  it('reads a static site whose run and test are empty strings', () => {
    const text =
      '[app]\nname="scapesite"\nversion="1.0.0"\nauthor="Ethan Shry"\nendpoint="https://github.com/ethanshry/scapesite"\n\n' +
      '[config]\nlang="static"\ntest=""\nrun=""\nport=5000\n';
    expect(parseManifest(text).config).toEqual({
      lang: 'static',
      port: 5000,
      env: {},
      limits: {},
      root: '.',
    });
  });

  it('accepts and ignores the early config.branch key', () => {
    expect(parseManifest(manifest('lang = "python3"\nrun = "python3 main.py"\nbranch = "master"')).config).not.toHaveProperty(
      'branch',
    );
  });

  it('merges [env-vars] with [config.env]', () => {
    const parsed = parseManifest(`${manifest('lang = "static"\n[config.env]\nA = "1"')}\n[env-vars]\nB = "2"\n`);
    expect(parsed.config.env).toEqual({ A: '1', B: '2' });
  });
});

describe('parseManifest: line endings', () => {
  it('reads Windows line endings and still reports the right line', () => {
    const text = '[app]\r\nname = "demo"\r\nversion = "1"\r\n\r\n[config]\r\nlang = "static"\r\nport = 0\r\n';
    expect(() => parseManifest(text)).toThrow(/^shipwreck\.toml:7: config\.port: /);
    expect(parseManifest(text.replace('port = 0', 'port = 8080')).config.port).toBe(8080);
  });
});
