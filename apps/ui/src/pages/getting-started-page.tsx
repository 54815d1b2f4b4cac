import { Card, Tabs, Typography, theme } from 'antd';
// eslint-disable-next-line @nx/enforce-module-boundaries -- no package: the Vite build makes it (build/manifest-examples.mts)
import manifests from 'virtual:manifest-examples';

export function GettingStartedPage() {
  const { token } = theme.useToken();
  // long commands scroll inside their block instead of widening the page on a phone
  const codeBlock = { background: token.colorFillTertiary, padding: 12, overflowX: 'auto' } as const;
  return (
    <>
      <Typography.Title level={2}>Getting started</Typography.Title>
      <Card title="1. Describe your app in shipwreck.toml" style={{ marginBottom: 16 }}>
        <Typography.Paragraph>
          Put a <code>shipwreck.toml</code> at the root of the repository (<code>kraken init</code> writes one like these). Kraken builds an image for the language, runs the tests, then starts{' '}
          <code>run</code> with <code>PORT</code> set; the app must listen on that port.
        </Typography.Paragraph>
        {/* small, close tabs: all four fit a phone's width, so none hides behind a "more" menu */}
        <Tabs
          size="small"
          tabBarGutter={20}
          items={manifests.map((m) => ({
            key: m.key,
            label: m.label,
            children: (
              <pre style={codeBlock} tabIndex={0} data-testid={`manifest-${m.key}`}>
                {m.toml}
              </pre>
            ),
          }))}
        />
      </Card>
      <Card title="2. Deploy it" style={{ marginBottom: 16 }}>
        <Typography.Paragraph>
          On the Deployments page, enter the git URL and branch, or from a terminal: <code>kraken deploy https://git.example.com/team/app.git</code>.
        </Typography.Paragraph>
      </Card>
      <Card title="3. Add a machine">
        <Typography.Paragraph>
          Install the agent on the new machine (<code>npm install -g @kraken/agent</code>) and start it pointing at the cluster&apos;s broker:
        </Typography.Paragraph>
        <pre style={codeBlock} tabIndex={0}>kraken agent --broker-url amqp://USER:PASSWORD@BROKER-HOST:5672</pre>
        <Typography.Paragraph>
          On a local network the agent finds the cluster by mDNS on its own. It appears on the Nodes page as soon as its first heartbeat arrives.
        </Typography.Paragraph>
      </Card>
    </>
  );
}
