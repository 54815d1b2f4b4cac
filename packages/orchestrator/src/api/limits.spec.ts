import { parse, specifiedRules, validate } from 'graphql';
import { queryLimitRules } from './limits.js';
import { krakenSchema } from './schema/build-schema.js';

async function errorsOf(query: string, maxDepth: number, maxFields = 100): Promise<string[]> {
  const rules = [...specifiedRules, ...queryLimitRules({ maxDepth, maxFields })];
  return validate(await krakenSchema(), parse(query), rules).map((error) => error.message);
}

describe('queryLimitRules', () => {
  const depth4 = 'query { getPlatform { deployments { statusHistory { status } } } }';

  it('accepts a query as deep as the limit and rejects one level more', async () => {
    expect(await errorsOf(depth4, 4)).toEqual([]);
    expect(await errorsOf(depth4, 3)).toEqual(['query is nested deeper than 3 levels, the most allowed']);
  });

  it('follows fragments and inline fragments', async () => {
    const query = `query { getPlatform { ...P } }
      fragment P on Platform { deployments { ... on Deployment { statusHistory { status } } } }`;
    expect(await errorsOf(query, 3)).toEqual(['query is nested deeper than 3 levels, the most allowed']);
    expect(await errorsOf(query, 4)).toEqual([]);
  });

  it('does not count introspection, so tools can read the schema', async () => {
    const introspection = 'query { __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }';
    expect(await errorsOf(introspection, 2)).toEqual([]);
  });

  it('counts fields across aliases and fragment uses', async () => {
    const query = `query { a: getNodes { ...N } b: getNodes { ...N } } fragment N on Node { id addr state }`;
    // 2 root fields + 2 x 3 fragment fields
    expect(await errorsOf(query, 10, 8)).toEqual([]);
    expect(await errorsOf(query, 10, 7)).toEqual(['query selects more than 7 fields; at most 7 are allowed']);
  });

  it('survives fragment cycles (graphql reports them)', async () => {
    const query = `query { getNodes { ...A } } fragment A on Node { id ...B } fragment B on Node { ...A }`;
    expect((await errorsOf(query, 10)).some((message) => /Cannot spread fragment "A" within itself/.test(message))).toBe(true);
  });
});
