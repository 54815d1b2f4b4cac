import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, execute, parse, validate } from 'graphql';
import { noopLogger } from '@kraken/common';
import { DeploymentStatus, LogStream } from '@kraken/messages';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { FakeClock } from '../../test/fake-clock.js';
import { nodeInfo } from '../../test/fixtures.js';
import type { Orchestrator } from '../orchestrator.js';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import type { ApiContext } from './context.js';
import { compileQueryPlan, queryPlanFor, runQueryPlan } from './fast-query.js';
import { krakenSchema } from './schema/build-schema.js';
import { DataKey } from '../data-key.js';

/** The cluster's data key in these tests (one for all stores: copies apply each other's sealed values). */
const dataKey = DataKey.generate('the test data key');

let schema: GraphQLSchema;
let dir: TempDir;
let store: OrchestratorStore;
let context: ApiContext;

beforeAll(async () => {
  schema = await krakenSchema();
});

beforeEach(async () => {
  dir = await tempDir('kraken-fast-query-');
  store = OrchestratorStore.open({ dataKey, dataDir: dir.path, clock: new FakeClock() });
  store.nodes.upsert({ ...nodeInfo('node-a'), extensions: { 'temperature.celsius': 47.5, 'fan.on': true, board: 'rpi-4' } });
  store.nodes.upsert({ ...nodeInfo('node-b'), addresses: [] });
  store.deployments.create({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', env: { B: '2', A: '1' } });
  store.deployments.setStatus('blog-1', DeploymentStatus.DelegatingDeployment, { nodeId: 'leader' }, { nodeId: 'node-a', port: 20000 });
  store.deployments.setStatus('blog-1', DeploymentStatus.Running, { nodeId: 'node-a', commit: 'abc1234', url: 'http://10.0.0.1:20000' });
  store.deployments.updateStats('blog-1', { cpuPercent: 2.5, memMb: 50.4, maxMemMb: 256, imageSizeMb: 120.6 });
  // not placed: null port, node, url
  store.deployments.create({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'dev', watch: true });
  store.logs.append('blog-1', [{ stream: LogStream.Stdout, text: 'listening', at: '2025-11-25T12:00:01.000Z' }]);
  const orchestrator = { nodeId: 'leader', epoch: 3, nodeDetection: () => undefined } as unknown as Orchestrator;
  context = {
    orchestrator,
    platformServices: () => [{ name: 'broker', status: 'up', detail: 'in-process' }],
    store,
    logger: noopLogger,
    resolveBranchHead: () => Promise.resolve(undefined),
    pubSub: undefined as unknown as ApiContext['pubSub'],
  };
});

afterEach(async () => {
  store.close();
  await dir.remove();
});

/** The fast path's answer and graphql-js's, as the JSON text a client receives. */
async function both(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  const plan = compileQueryPlan(schema, document, operationName);
  const fast = plan === undefined ? undefined : await runQueryPlan({ schema, plan, contextValue: context, variables });
  const reference = await execute({
    schema,
    document,
    contextValue: context,
    variableValues: variables ?? null,
    operationName: operationName ?? null,
  });
  return {
    fast: fast === undefined ? undefined : JSON.stringify(fast),
    reference: JSON.stringify(reference.data),
    errors: reference.errors,
  };
}

describe('the fast query path answers exactly what graphql-js answers', () => {
  it.each([
    [
      'the original client query',
      'query { getDeployments { id srcUrl status statusHistory { status time } deploymentUrl node } getNodes { id addr } }',
    ],
    [
      'every Deployment field, with nulls',
      `{ getDeployments { id srcUrl gitBranch version commit port status statusMessage resultsUrl deploymentUrl node size memMb
         maxMemMb cpuUsage placementReason env { name value } watch statusHistory { status time message node } } }`,
    ],
    [
      'aliases and __typename',
      '{ __typename all: getDeployments { __typename key: id s: status h: statusHistory { __typename t: time } } }',
    ],
    [
      'named and inline fragments, and a field selected twice (merged)',
      `query Q { getDeployments { ...D ... on Deployment { statusHistory { time } } statusHistory { status } id } }
       fragment D on Deployment { id node ... { status } }`,
    ],
    [
      'getPlatform, nested lists of objects',
      '{ getPlatform { orchestrator epoch deployments { id status } nodes { id addr state runtimes ramFree currentRamPercent } } }',
    ],
    [
      'a root field with a literal argument',
      '{ getDeployment(deploymentId: "blog-1") { id commit port } getNode(nodeId: "node-a") { id hostname } }',
    ],
    [
      'logs with default arguments',
      '{ logs(deploymentId: "blog-1") { next dropped lines { seq text stream time } } getAvailableLogs }',
    ],
    ['getPlatformServices', '{ getPlatformServices { name status detail } }'],
    ['node extensions, with and without', '{ getNodes { id extensions { key value type } } }'],
  ])('%s', async (_name, query) => {
    const { fast, reference, errors } = await both(query);
    expect(errors).toBeUndefined();
    expect(fast).toBeDefined();
    expect(fast).toBe(reference);
  });

  it('coerces variables and picks the named operation', async () => {
    const query = `query One($id: String!) { getDeployment(deploymentId: $id) { id gitBranch watch } }
                   query Two($limit: Int = 1) { logs(deploymentId: "blog-1", limit: $limit) { next } }`;
    const one = await both(query, { id: 'shop-1' }, 'One');
    expect(one.fast).toBe(one.reference);
    expect(one.fast).toContain('"gitBranch":"dev"');
    const two = await both(query, {}, 'Two');
    expect(two.fast).toBe(two.reference);
  });
});

describe('the fast query path leaves to graphql-js what it does not copy', () => {
  it.each([
    ['mutations', 'mutation { deleteLog(logId: "blog-1") }'],
    ['subscriptions', 'subscription { deploymentChanged { id } }'],
    ['directives', '{ getDeployments { id @include(if: true) } }'],
    ['introspection', '{ __schema { queryType { name } } }'],
    ['introspection next to data', '{ getPlatform { orchestrator } __type(name: "Node") { name } }'],
  ])('%s: no plan', (_name, query) => {
    expect(compileQueryPlan(schema, parse(query))).toBeUndefined();
  });

  it('gives up when a resolver throws, so graphql-js reports the error its own way', async () => {
    const { fast, errors } = await both('{ getDeployment(deploymentId: "ghost") { id } }');
    expect(fast).toBeUndefined();
    expect(errors?.[0]?.message).toBe('no deployment with id ghost');
  });

  it('gives up on variables that do not coerce', async () => {
    const document = parse('query ($id: String!) { getDeployment(deploymentId: $id) { id } }');
    const plan = compileQueryPlan(schema, document);
    expect(plan).toBeDefined();
    if (plan === undefined) return;
    expect(await runQueryPlan({ schema, plan, contextValue: context, variables: { id: 42 } })).toBeUndefined();
    expect(await runQueryPlan({ schema, plan, contextValue: context, variables: {} })).toBeUndefined();
  });

  describe('on a plain graphql-js schema', () => {
    const plain = buildSchema(`
      type Item { id: String! tags: [String!] child: Item }
      type Query { items: [Item!]! item: Item }
    `);

    async function compare(rootValue: Record<string, unknown>, query = '{ items { id tags child { id } } item { id } }') {
      const document = parse(query);
      const plan = compileQueryPlan(plain, document);
      if (plan === undefined) throw new Error('expected a plan');
      const reference = await execute({ schema: plain, document, rootValue });
      const fast = await runQueryPlan({ schema: plain, plan, contextValue: {}, rootValue });
      return { reference, fast };
    }

    it('answers like graphql-js from plain root values, nulls included', async () => {
      const { reference, fast } = await compare({
        items: [{ id: 'a', tags: ['x'], child: { id: 'b' } }, { id: 'c' }],
        item: null,
      });
      expect(reference.errors).toBeUndefined();
      expect(JSON.stringify(fast)).toBe(JSON.stringify(reference.data));
    });

    it.each([
      ['a null in a non-null field', { items: [{ id: null }] }],
      ['a null in a non-null list item', { items: [{ id: 'a', tags: [null] }] }],
      ['a list that is not an array', { items: 'nope' }],
      ['a value that does not serialise', { items: [{ id: { not: 'a string' } }] }],
      ['a property that is a function (graphql-js would call it)', { items: [{ id: () => 'a' }] }],
    ])('gives up on %s', async (_name, rootValue) => {
      const { fast } = await compare(rootValue);
      expect(fast).toBeUndefined();
    });
  });

  it('compiles a document once per operation', () => {
    const document = parse('query A { getNodes { id } } query B { getDeployments { id } }');
    const a = queryPlanFor(schema, document, 'A');
    expect(a).not.toBeNull();
    expect(queryPlanFor(schema, document, 'A')).toBe(a);
    expect(queryPlanFor(schema, document, 'B')).not.toBe(a);
    expect(queryPlanFor(schema, document, undefined)).toBeNull(); // two operations, no name: graphql-js says which
  });
});

describe('the fast query path remembers what it made of frozen values', () => {
  const plain = buildSchema(`
    type Tag { name: String! }
    type Item { id: String! tags: [Tag!]! }
    type Query { items: [Item!]! }
  `);
  const plan = compileQueryPlan(plain, parse('{ items { id tags { name } } }'));

  async function run(items: unknown[]) {
    if (plan === undefined) throw new Error('expected a plan');
    const data = await runQueryPlan({ schema: plain, plan, contextValue: {}, rootValue: { items } });
    return (data as { items: unknown[] }).items;
  }

  it('reuses the result for the same deeply frozen object, and rebuilds it for its replacement', async () => {
    const frozen = Object.freeze({ id: 'a', tags: Object.freeze([Object.freeze({ name: 'x' })]) });
    const [first] = await run([frozen]);
    const [second] = await run([frozen]);
    expect(second).toBe(first);
    const replaced = Object.freeze({ ...frozen, id: 'b' });
    expect(await run([replaced])).toEqual([{ id: 'b', tags: [{ name: 'x' }] }]);
  });

  it('never remembers an object that holds something that can still change', async () => {
    const tags: { name: string }[] = [Object.freeze({ name: 'x' })];
    const item = Object.freeze({ id: 'a', tags }); // frozen, but its list is not
    expect(await run([item])).toEqual([{ id: 'a', tags: [{ name: 'x' }] }]);
    tags.push(Object.freeze({ name: 'y' }));
    expect(await run([item])).toEqual([{ id: 'a', tags: [{ name: 'x' }, { name: 'y' }] }]);
    const mutable = { id: 'c', tags: Object.freeze([]) };
    await run([mutable]);
    mutable.id = 'd';
    expect(await run([mutable])).toEqual([{ id: 'd', tags: [] }]);
  });
});
