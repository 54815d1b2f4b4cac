import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { printKrakenSchema } from './build-schema.js';

const committed = path.resolve(__dirname, '../../../schema.graphql');
const REGENERATE = 'NX_DAEMON=false npx nx run orchestrator:generate-schema';

describe('schema.graphql', () => {
  it('matches the schema the resolvers build (clients and CI read the committed file)', async () => {
    const built = await printKrakenSchema();
    // the generate-schema target runs this test with KRAKEN_WRITE_SCHEMA=1 to refresh the file
    if (process.env['KRAKEN_WRITE_SCHEMA'] === '1') writeFileSync(committed, built);
    let onDisk = '';
    try {
      onDisk = readFileSync(committed, 'utf8');
    } catch {
      throw new Error(`${committed} is missing; create it with: ${REGENERATE}`);
    }
    if (onDisk !== built) {
      throw new Error(`${committed} is out of date with the resolvers; regenerate it with: ${REGENERATE} (and commit it)`);
    }
  });

  it('keeps the original Kraken API names', async () => {
    const sdl = await printKrakenSchema();
    const schema = buildSchema(sdl);
    const signature = (type: 'Query' | 'Mutation', name: string): string => {
      const field = (type === 'Query' ? schema.getQueryType() : schema.getMutationType())?.getFields()[name];
      if (field === undefined) return `${type}.${name} is missing`;
      const args = field.args.map((arg) => `${arg.name}: ${String(arg.type)}`).sort();
      return `${name}(${args.join(', ')}): ${String(field.type)}`;
    };
    expect(signature('Mutation', 'createDeployment')).toBe(
      'createDeployment(deploymentUrl: String!, env: [EnvVarInput!], gitBranch: String!, name: String, watch: Boolean): String!',
    );
    expect(signature('Mutation', 'cancelDeployment')).toBe('cancelDeployment(deploymentId: String!): String!');
    expect(signature('Mutation', 'pollRedeploy')).toBe('pollRedeploy(deploymentId: String!): Boolean!');
    expect(signature('Mutation', 'deleteLog')).toBe('deleteLog(logId: String!): Boolean!');
    expect(signature('Query', 'getDeployment')).toBe('getDeployment(deploymentId: String!): Deployment!');
    expect(signature('Query', 'getDeployments')).toBe('getDeployments(): [Deployment!]!');
    expect(signature('Query', 'getNode')).toBe('getNode(nodeId: String!): Node!');
    expect(signature('Query', 'getNodes')).toBe('getNodes(): [Node!]!');
    expect(signature('Query', 'getPlatform')).toBe('getPlatform(): Platform!');
    expect(signature('Query', 'getPlatformServices')).toBe('getPlatformServices(): [PlatformService!]!');
    expect(signature('Query', 'getAvailableLogs')).toBe('getAvailableLogs(): [String!]!');
    const statuses = /enum ApplicationStatus \{([^}]*)\}/.exec(sdl)?.[1]?.match(/[A-Z_]{3,}/g);
    expect(statuses).toEqual([
      'DEPLOYMENT_REQUESTED',
      'VALIDATING_DEPLOYMENT_DATA',
      'RETRIEVING_APPLICATION_DATA',
      'DELEGATING_DEPLOYMENT',
      'BUILDING_DEPLOYMENT',
      'TESTING_DEPLOYMENT',
      'DEPLOYING',
      'RUNNING',
      // Kraken's own addition (stopDeployment); the original names keep their order around it
      'STOPPED',
      'DESTRUCTION_REQUESTED',
      'DELEGATING_DESTRUCTION',
      'DESTRUCTION_IN_PROGRESS',
      'DESTROYED',
      'UPDATE_REQUESTED',
      'ERRORED',
    ]);
  });
});
