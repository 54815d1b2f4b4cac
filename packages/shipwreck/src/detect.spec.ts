import { Lang, detectLang } from './index.js';

describe('detectLang', () => {
  it.each([
    [['package.json', 'README.md'], Lang.Node],
    [['requirements.txt'], Lang.Python3],
    [['pyproject.toml', 'src'], Lang.Python3],
    [['app.py'], Lang.Python3],
    [['Dockerfile', 'go.mod'], Lang.Custom],
    [['index.html', 'style.css'], Lang.Static],
  ])('detects %j as %s', (files, lang) => {
    expect(detectLang(files)).toBe(lang);
  });

  it('prefers a language template over a Dockerfile kept alongside', () => {
    expect(detectLang(['Dockerfile', 'package.json'])).toBe(Lang.Node);
    expect(detectLang(['Dockerfile', 'requirements.txt'])).toBe(Lang.Python3);
  });

  it('prefers node over static when a node app also has an index.html', () => {
    expect(detectLang(['index.html', 'package.json'])).toBe(Lang.Node);
  });

  it('ignores case in file names', () => {
    expect(detectLang(['dockerfile'])).toBe(Lang.Custom);
    expect(detectLang(['Index.HTML'])).toBe(Lang.Static);
  });

  it('looks at top-level names only', () => {
    expect(detectLang(['web/package.json', 'docs/index.html'])).toBeUndefined();
    expect(detectLang(['src/', 'app.py'])).toBe(Lang.Python3);
  });

  it('returns undefined when nothing is recognised', () => {
    expect(detectLang([])).toBeUndefined();
    expect(detectLang(['main.go', 'go.mod'])).toBeUndefined();
  });
});
