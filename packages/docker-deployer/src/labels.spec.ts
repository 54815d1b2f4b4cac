import { instanceName } from '@kraken/runtime';
import { Label, buildLabels, imageLabels, imageTag, labelFilters } from './labels.js';

describe('labels', () => {
  it('names the deployment, node, app, commit, role and port', () => {
    expect(buildLabels({ deploymentId: 'd1', nodeId: 'n1', appName: 'shop', commit: 'abc', role: 'app', port: 3000 })).toEqual({
      'org.kraken.deployment': 'd1',
      'org.kraken.node': 'n1',
      'org.kraken.app': 'shop',
      'org.kraken.commit': 'abc',
      'org.kraken.role': 'app',
      'org.kraken.port': '3000',
    });
  });

  it('leaves the port label out for an app without a port', () => {
    expect(buildLabels({ deploymentId: 'd1', nodeId: 'n1', appName: 'job', commit: 'abc', role: 'test' })).not.toHaveProperty(Label.Port);
  });

  it('labels images by node, app and commit only, so every deployment of one commit shares its build cache', () => {
    expect(imageLabels({ nodeId: 'n1', appName: 'shop', commit: 'abc' })).toEqual({ 'org.kraken.node': 'n1', 'org.kraken.app': 'shop', 'org.kraken.commit': 'abc' });
  });

  it('filters by node and role, and by deployment when given', () => {
    expect(labelFilters('n1', 'app', 'd1')).toEqual({ label: ['org.kraken.node=n1', 'org.kraken.role=app', 'org.kraken.deployment=d1'] });
    expect(labelFilters('n1', 'app')).toEqual({ label: ['org.kraken.node=n1', 'org.kraken.role=app'] });
  });

  it('lowercases image references and prefixes container names', () => {
    expect(imageTag('shop', 'Deploy-ABC')).toBe('kraken/shop:deploy-abc');
    expect(instanceName('Deploy-ABC', 'pi-4')).toBe('kraken-pi-4-Deploy-ABC');
  });
});
