import { Lang, LANGS, ManifestError, defaultsFor, parseManifest, renderManifest } from './index.js';
import type { ManifestTemplateInput } from './index.js';

describe('defaultsFor', () => {
  it('gives each language its start command, test and port', () => {
    expect(defaultsFor(Lang.Node)).toEqual({
      port: 3000,
      run: 'npm start',
      test: 'npm test',
    });
    expect(defaultsFor(Lang.Python3)).toEqual({
      port: 8000,
      run: 'python3 app.py',
    });
    expect(defaultsFor(Lang.Static)).toEqual({ port: 80, root: '.' });
    expect(defaultsFor(Lang.Custom)).toEqual({
      port: 8080,
      dockerfile: 'Dockerfile',
    });
  });

  it('returns a copy callers may change', () => {
    const copy = defaultsFor(Lang.Node) as { port: number };
    copy.port = 1;
    expect(defaultsFor(Lang.Node).port).toBe(3000);
  });
});

describe('renderManifest', () => {
  it.each(LANGS)("writes a valid %s manifest with that language's defaults", (lang) => {
    const defaults = defaultsFor(lang);
    const parsed = parseManifest(renderManifest({ lang, name: 'demo' }));
    expect(parsed.app).toEqual({
      name: 'demo',
      version: '0.1.0',
      endpoint: '/',
    });
    expect(parsed.config).toEqual({
      lang,
      port: defaults.port,
      ...(defaults.run === undefined ? {} : { run: defaults.run }),
      ...(defaults.test === undefined ? {} : { test: defaults.test }),
      env: {},
      limits: {},
      ...(defaults.root === undefined ? {} : { root: defaults.root }),
      ...(defaults.dockerfile === undefined ? {} : { dockerfile: defaults.dockerfile }),
    });
  });

  it.each(LANGS)('round-trips every overridden field for %s', (lang) => {
    const input: ManifestTemplateInput = {
      lang,
      name: 'shop-api',
      version: '2.0.0-beta.1',
      author: 'Ada "the first" Lovelace',
      endpoint: '/status',
      port: 9090,
      run: 'node server.js --name "x" \\ done',
      test: 'npm run test:ci',
      env: { NODE_ENV: 'production', MULTI_LINE: 'a\nb\tc', EMPTY: '' },
      memory: '1g',
      cpus: 0.5,
      ...(lang === Lang.Static ? { root: 'public' } : {}),
      ...(lang === Lang.Custom ? { dockerfile: 'ops/Dockerfile' } : {}),
    };
    const parsed = parseManifest(renderManifest(input));
    expect(parsed.app).toEqual({
      name: input.name,
      version: input.version,
      author: input.author,
      endpoint: input.endpoint,
    });
    expect(parsed.config).toMatchObject({
      lang,
      port: 9090,
      run: input.run,
      test: input.test,
      env: input.env,
    });
    expect(parsed.config.limits).toEqual({ memoryMb: 1024, cpus: 0.5 });
    if (lang === Lang.Static) expect(parsed.config.root).toBe('public');
    if (lang === Lang.Custom) expect(parsed.config.dockerfile).toBe('ops/Dockerfile');
  });

  it('writes the test line commented out when there is no test step', () => {
    const text = renderManifest({ lang: Lang.Node, name: 'demo', test: '' });
    expect(text).toContain('# test = "npm test"');
    expect(parseManifest(text).config.test).toBeUndefined();
  });

  it('shows optional settings as commented examples', () => {
    const text = renderManifest({ lang: Lang.Python3, name: 'demo' });
    expect(text).toContain('# author = "Your Name"');
    expect(text).toContain('# memory = "512m"');
    expect(text).toContain('# [config.env]\n# PYTHONUNBUFFERED = "1"');
    expect(text).toContain('# test = "python3 -m pytest"');
  });

  it('keeps a memory limit given in megabytes as a number', () => {
    expect(parseManifest(renderManifest({ lang: Lang.Static, name: 'demo', memory: 256 })).config.limits.memoryMb).toBe(256);
  });

  it("throws the validator's ManifestError for input that makes an invalid manifest", () => {
    expect(() => renderManifest({ lang: Lang.Node, name: 'My App!' })).toThrow(ManifestError);
    expect(() => renderManifest({ lang: Lang.Node, name: 'demo', port: 70000 })).toThrow(
      /config\.port: must be a whole number from 1 to 65535/,
    );
    expect(() => renderManifest({ lang: Lang.Node, name: 'demo', run: '' })).toThrow(/config\.run: empty/);
  });
});
