import { theme } from 'antd';

/**
 * Text whose line breaks mean something (a build error, test output): a monospace block that keeps
 * them, wrapping long lines instead of widening the page.
 */
export function MultilineText({ text }: { text: string }) {
  const { token } = theme.useToken();
  // one line reads better as ordinary text
  if (!text.includes('\n')) return <div>{text}</div>;
  return (
    <pre
      data-testid="multiline-text"
      style={{
        fontFamily: token.fontFamilyCode,
        fontSize: 12,
        whiteSpace: 'pre-wrap',
        overflowWrap: 'anywhere',
        margin: '4px 0 0',
        padding: 8,
        background: token.colorFillQuaternary,
        borderRadius: token.borderRadiusSM,
      }}
    >
      {text.trimEnd()}
    </pre>
  );
}
