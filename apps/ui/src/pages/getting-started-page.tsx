import { Card, Tabs, Typography } from 'antd';

// long commands scroll inside their block instead of widening the page on a phone
const codeBlock = { background: '#f5f5f5', padding: 12, overflowX: 'auto' } as const;

const manifests: { key: string; label: string; toml: string }[] = [
  {
    key: 'node',
    label: 'Node.js',
    toml: `[app]\nname = "hello"\n\n[deploy]\nlang = "node"\nport = 3000\nrun = "node server.js"\ntest = "npm test"`,
  },
  {
    key: 'python',
    label: 'Python',
    toml: `[app]\nname = "hello"\n\n[deploy]\nlang = "python"\nport = 8000\nrun = "python app.py"\ntest = "python -m pytest"`,
  },
  {
    key: 'static',
    label: 'Static site',
    toml: `[app]\nname = "site"\n\n[deploy]\nlang = "static"\nport = 80`,
  },
];

export function GettingStartedPage() {
  return (
    <>
      <Typography.Title level={2}>Getting started</Typography.Title>
      <Card title="1. Describe your app in shipwreck.toml" style={{ marginBottom: 16 }}>
        <Typography.Paragraph>
          Put a <code>shipwreck.toml</code> at the root of the repository. Kraken builds an image for the language, runs the tests, then starts{' '}
          <code>run</code> with <code>PORT</code> set; the app must listen on that port.
        </Typography.Paragraph>
        <Tabs
          items={manifests.map((m) => ({
            key: m.key,
            label: m.label,
            children: <pre style={codeBlock}>{m.toml}</pre>,
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
        <pre style={codeBlock}>kraken agent --broker-url amqp://USER:PASSWORD@BROKER-HOST:5672</pre>
        <Typography.Paragraph>
          On a local network the agent finds the cluster by mDNS on its own. It appears on the Nodes page as soon as its first heartbeat arrives.
        </Typography.Paragraph>
      </Card>
    </>
  );
}
