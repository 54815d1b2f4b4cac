import { getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { INTROSPECTION_COST, defaultQueryLimits, queryLimitRules, tokenLimitError } from './limits.js';
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

  it('lets the standard introspection query through the default limits, so tools can read the schema', async () => {
    const { maxDepth, maxFields } = defaultQueryLimits;
    const full = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });
    expect(await errorsOf(full, maxDepth, maxFields)).toEqual([]);
    // its ofType chains nest deeper than maxDepth: introspection nesting is graphql's rule's to bound
    expect(await errorsOf('query { __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }', 2, 200)).toEqual([]);
  });

  it('counts introspection fields, and each __schema or __type as INTROSPECTION_COST more', async () => {
    const two = 'query { a: __type(name: "Node") { name } b: __type(name: "Deployment") { name } }';
    const cost = 2 * (1 + INTROSPECTION_COST + 1);
    expect(await errorsOf(two, 10, cost)).toEqual([]);
    expect(await errorsOf(two, 10, cost - 1)).toEqual([`query selects more than ${cost - 1} fields; at most ${cost - 1} are allowed`]);
    // __typename is a constant beside the data, as clients add it everywhere
    expect(await errorsOf('query { getNodes { id __typename } __typename }', 10, 2)).toEqual([]);
  });

  it('refuses an alias bomb of 2,000 introspection subtrees before it runs', async () => {
    const bomb = `query { ${Array.from({ length: 2000 }, (_, i) => `a${String(i)}: __schema { types { name fields { name } } }`).join(' ')} }`;
    const { maxDepth, maxFields } = defaultQueryLimits;
    expect(await errorsOf(bomb, maxDepth, maxFields)).toEqual([`query selects more than ${maxFields} fields; at most ${maxFields} are allowed`]);
  });

  it('refuses introspection nested through types and fields (graphql\'s MaxIntrospectionDepthRule)', async () => {
    const nested = 'query { __schema { types { fields { type { fields { type { fields { name } } } } } } } }';
    expect((await errorsOf(nested, 10)).some((message) => /Maximum introspection depth exceeded/.test(message))).toBe(true);
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

describe('tokenLimitError', () => {
  it('lets the standard introspection query through the default and refuses an alias bomb of it', () => {
    const full = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });
    expect(tokenLimitError(full, defaultQueryLimits.maxTokens)).toBeUndefined();
    const bomb = `{ ${Array.from({ length: 2000 }, (_, i) => `a${String(i)}:__schema{types{name}}`).join(' ')} }`;
    expect(tokenLimitError(bomb, defaultQueryLimits.maxTokens)).toMatchObject({
      message: `query holds more than ${defaultQueryLimits.maxTokens} tokens; at most ${defaultQueryLimits.maxTokens} are allowed (split it, or select fewer fields)`,
      extensions: { limit: 'tokens', max: defaultQueryLimits.maxTokens },
    });
  });

  it('counts punctuation too, and leaves a query that does not lex to graphql', () => {
    expect(tokenLimitError('{ a }', 3)).toBeUndefined();
    expect(tokenLimitError('{ a b }', 3)?.extensions['limit']).toBe('tokens');
    expect(tokenLimitError('{ a \u0000 b c d e }', 3)).toBeUndefined();
  });
});
