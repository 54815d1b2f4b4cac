import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import type { ApolloServerPlugin } from '@apollo/server';
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
import { CompiledQueries, fastQueryPlugin } from './fast-query-plugin.js';
import { krakenSchema } from './schema/build-schema.js';

let schema: GraphQLSchema;
let dir: TempDir;
let store: OrchestratorStore;
let context: ApiContext;

beforeAll(async () => {
  schema = await krakenSchema();
});

beforeEach(async () => {
  dir = await tempDir('kraken-fast-query-');
  store = OrchestratorStore.open({ dataDir: dir.path, clock: new FakeClock() });
  store.upsertNode({ ...nodeInfo('node-a'), extensions: { 'temperature.celsius': 47.5, 'fan.on': true, board: 'rpi-4' } });
  store.upsertNode({ ...nodeInfo('node-b'), addresses: [] });
  store.createDeployment({ id: 'blog-1', srcUrl: 'https://git.lan/blog.git', branch: 'main', env: { B: '2', A: '1' } });
  store.setStatus('blog-1', DeploymentStatus.DelegatingDeployment, { nodeId: 'leader' }, { nodeId: 'node-a', port: 20000 });
  store.setStatus('blog-1', DeploymentStatus.Running, { nodeId: 'node-a', commit: 'abc1234', url: 'http://10.0.0.1:20000' });
  store.updateStats('blog-1', { cpuPercent: 2.5, memMb: 50.4, maxMemMb: 256, imageSizeMb: 120.6 });
  // not placed: null port, node, url
  store.createDeployment({ id: 'shop-1', srcUrl: 'https://git.lan/shop.git', branch: 'dev', watch: true });
  store.appendLogs('blog-1', [{ stream: LogStream.Stdout, text: 'listening', at: '2025-11-25T12:00:01.000Z' }]);
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

/** An Apollo server on `schemaToServe` with the plugin, and whether graphql-js executed each request. */
async function serve(schemaToServe: GraphQLSchema) {
  const executedByGraphqlJs: boolean[] = [];
  const observer: ApolloServerPlugin<object> = {
    requestDidStart() {
      let executed = false;
      return Promise.resolve({
        executionDidStart() {
          executed = true;
          return Promise.resolve();
        },
        willSendResponse() {
          executedByGraphqlJs.push(executed);
          return Promise.resolve();
        },
      });
    },
  };
  const server = new ApolloServer<object>({ schema: schemaToServe, plugins: [fastQueryPlugin<object>(), observer] });
  await server.start();
  return {
    async run(query: string, contextValue: object, variables?: Record<string, unknown>, operationName?: string) {
      const response = await server.executeOperation(
        { query, ...(variables === undefined ? {} : { variables }), ...(operationName === undefined ? {} : { operationName }) },
        { contextValue },
      );
      if (response.body.kind !== 'single') throw new Error('expected a single result');
      return { result: response.body.singleResult, byGraphqlJs: executedByGraphqlJs.at(-1) };
    },
    [Symbol.asyncDispose]: () => server.stop(),
  };
}

/** graphql-js's own answer, as the JSON text a client receives. */
async function reference(
  schemaToRun: GraphQLSchema,
  query: string,
  contextValue: unknown,
  variables?: Record<string, unknown>,
  operationName?: string,
) {
  const document = parse(query);
  expect(validate(schemaToRun, document)).toEqual([]);
  const result = await execute({
    schema: schemaToRun,
    document,
    contextValue,
    variableValues: variables ?? null,
    operationName: operationName ?? null,
  });
  return { data: JSON.stringify(result.data), errors: result.errors?.map((e) => e.message) };
}

describe('the compiled query path answers exactly what graphql-js answers', () => {
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
    ['directives', '{ getDeployments { id @include(if: true) status @skip(if: true) commit @skip(if: false) } }'],
  ])('%s', async (_name, query) => {
    await using server = await serve(schema);
    const { result, byGraphqlJs } = await server.run(query, context);
    const expected = await reference(schema, query, context);
    expect(expected.errors).toBeUndefined();
    expect(result.errors).toBeUndefined();
    expect(byGraphqlJs).toBe(false);
    expect(JSON.stringify(result.data)).toBe(expected.data);
  });

  it('coerces variables, applies them to directives and picks the named operation', async () => {
    await using server = await serve(schema);
    const query = `query One($id: String!, $watch: Boolean = false) { getDeployment(deploymentId: $id) { id gitBranch watch @include(if: $watch) } }
                   query Two($limit: Int = 1) { logs(deploymentId: "blog-1", limit: $limit) { next } }`;
    const one = await server.run(query, context, { id: 'shop-1', watch: true }, 'One');
    expect(one.byGraphqlJs).toBe(false);
    expect(JSON.stringify(one.result.data)).toBe(
      (await reference(schema, query, context, { id: 'shop-1', watch: true }, 'One')).data,
    );
    expect(JSON.stringify(one.result.data)).toContain('"gitBranch":"dev","watch":true');
    const two = await server.run(query, context, {}, 'Two');
    expect(two.byGraphqlJs).toBe(false);
    expect(JSON.stringify(two.result.data)).toBe((await reference(schema, query, context, {}, 'Two')).data);
  });

  it('answers introspection as graphql-js does', async () => {
    await using server = await serve(schema);
    const query =
      '{ getPlatform { orchestrator } __type(name: "Node") { name fields { name } } __schema { queryType { name } } }';
    const { result } = await server.run(query, context);
    expect(result.errors).toBeUndefined();
    expect(JSON.stringify(result.data)).toBe((await reference(schema, query, context)).data);
  });
});

describe('the queries the UI sends', () => {
  // the web UI's own operations file (apps/ui), so a query it sends that graphql-jit answers
  // differently, or leaves to graphql-js, fails here
  const operations = readFileSync(path.resolve(__dirname, '../../../../apps/ui/src/api/operations.graphql'), 'utf8');
  it.each([
    ['Overview', {}],
    ['Deployment', { deploymentId: 'blog-1' }],
    ['PlatformServices', {}],
    ['Logs', { deploymentId: 'blog-1', after: 0, limit: 100 }],
    ['StatsHistory', { deploymentId: 'blog-1' }],
  ])('%s is compiled and answers as graphql-js does', async (name, variables) => {
    const withStats = {
      ...context,
      orchestrator: { nodeId: 'leader', epoch: 3, nodeDetection: () => undefined, statsSamples: () => [] } as unknown as Orchestrator,
    };
    await using server = await serve(schema);
    const { result, byGraphqlJs } = await server.run(operations, withStats, variables, name);
    const expected = await reference(schema, operations, withStats, variables, name);
    expect(expected.errors).toBeUndefined();
    expect(result.errors).toBeUndefined();
    expect(byGraphqlJs).toBe(false);
    expect(JSON.stringify(result.data)).toBe(expected.data);
  });
});

describe('the compiled query path leaves to graphql-js what it must not or cannot answer', () => {
  it('runs a mutation once, with graphql-js', async () => {
    await using server = await serve(schema);
    const { result, byGraphqlJs } = await server.run('mutation { deleteLog(logId: "blog-1") }', context);
    expect(byGraphqlJs).toBe(true);
    expect(result.data).toEqual({ deleteLog: true });
    expect(store.readLogs('blog-1')).toEqual([]);
  });

  it('lets graphql-js report a resolver error its own way', async () => {
    await using server = await serve(schema);
    const { result, byGraphqlJs } = await server.run('{ getDeployment(deploymentId: "ghost") { id } }', context);
    expect(byGraphqlJs).toBe(true);
    expect(result.errors?.map((e) => e.message)).toEqual(['no deployment with id ghost']);
  });

  it('lets graphql-js report variables that do not coerce', async () => {
    await using server = await serve(schema);
    const query = 'query ($id: String!) { getDeployment(deploymentId: $id) { id } }';
    for (const variables of [{ id: 42 }, {}]) {
      const { result } = await server.run(query, context, variables);
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.message).toMatch(/^Variable "\$id"/);
      expect(result.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    }
  });

  describe('on a plain graphql-js schema', () => {
    const plain = buildSchema(`
      type Item { id: String! tags: [String!] child: Item }
      type Query { items: [Item!]! item: Item }
    `);
    // executeOperation passes no root value, so the root fields read theirs from the context
    for (const [name, field] of Object.entries(plain.getQueryType()?.getFields() ?? {}))
      field.resolve = (_root, _args, values: Record<string, unknown>) => values[name];
    const query = '{ items { id tags child { id } } item { id } }';

    async function compare(values: Record<string, unknown>) {
      await using server = await serve(plain);
      const { result, byGraphqlJs } = await server.run(query, values);
      const expected = await reference(plain, query, values);
      return { result, byGraphqlJs, expected };
    }

    it('answers like graphql-js from plain values, nulls included', async () => {
      const { result, byGraphqlJs, expected } = await compare({
        items: [{ id: 'a', tags: ['x'], child: { id: 'b' } }, { id: 'c' }],
        item: null,
      });
      expect(expected.errors).toBeUndefined();
      expect(byGraphqlJs).toBe(false);
      expect(JSON.stringify(result.data)).toBe(expected.data);
    });

    it.each([
      ['a null in a non-null field', { items: [{ id: null }] }],
      ['a null in a non-null list item', { items: [{ id: 'a', tags: [null] }] }],
      ['a list that is not an array', { items: 'nope' }],
      ['a value that does not serialise', { items: [{ id: { not: 'a string' } }] }],
    ])('leaves %s to graphql-js, which reports it', async (_name, rootValue) => {
      const { result, byGraphqlJs, expected } = await compare(rootValue);
      expect(byGraphqlJs).toBe(true);
      expect(result.errors?.map((e) => e.message)).toEqual(expected.errors);
      expect(JSON.stringify(result.data)).toBe(expected.data);
    });

    it('calls a property that is a function, as graphql-js does', async () => {
      const { result, expected } = await compare({ items: [{ id: () => 'a' }], item: null });
      expect(expected.errors).toBeUndefined();
      expect(JSON.stringify(result.data)).toBe(expected.data);
    });
  });
});

describe('compiled queries', () => {
  it('compiles each query text and operation once', () => {
    const queries = new CompiledQueries(schema, 10);
    const source = 'query A { getNodes { id } } query B { getDeployments { id } }';
    const document = parse(source);
    const a = queries.get(source, document, 'A');
    expect(a).not.toBeNull();
    expect(queries.get(source, parse(source), 'A')).toBe(a);
    expect(queries.get(source, document, 'B')).not.toBe(a);
    expect(queries.size).toBe(2);
  });

  it('keeps at most the configured number, dropping the least recently used', () => {
    const queries = new CompiledQueries(schema, 2);
    const texts = ['{ getNodes { id } }', '{ getDeployments { id } }', '{ getPlatform { epoch } }'];
    const first = queries.get(texts[0] as string, parse(texts[0] as string), undefined);
    for (const text of texts.slice(1)) queries.get(text, parse(text), undefined);
    expect(queries.size).toBe(2);
    expect(queries.get(texts[0] as string, parse(texts[0] as string), undefined)).not.toBe(first);
  });

  it('remembers that a query did not compile', () => {
    const queries = new CompiledQueries(schema, 10);
    // two operations and no name: graphql-jit refuses, and Apollo lets graphql-js say why
    const source = 'query A { getNodes { id } } query B { getDeployments { id } }';
    expect(queries.get(source, parse(source), undefined)).toBeNull();
    expect(queries.size).toBe(1);
  });
});
