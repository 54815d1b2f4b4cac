import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { OperationTypeNode } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

export interface FastQueryOptions {
  /**
   * Compiled queries kept (least recently used go first). A compiled query is generated code, far
   * bigger than its text, and clients may send any number of different query texts.
   * @default 200
   */
  maxCompiledQueries?: number;
}

/** What a query text compiled to; `null` remembers that graphql-jit refused it, so it is not tried again. */
type Compiled = CompiledQuery | null;

/**
 * Compiled queries by query text and operation name, for one schema, at most `max` of them.
 * Keyed by text rather than by Apollo's parsed document, so a document Apollo parses again (its
 * own cache is bounded too) does not compile again.
 */
export class CompiledQueries {
  /** In use order, least recent first (a Map iterates in insertion order; a hit moves to the end). */
  readonly #cache = new Map<string, Compiled>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly max: number,
  ) {}

  /** The compiled query for `document` (parsed from `source` and validated), or null when graphql-jit cannot compile it. */
  get(source: string, document: DocumentNode, operationName: string | undefined): Compiled {
    // a NUL cannot appear in an operation name, so the key is unambiguous
    const key = `${operationName ?? ''}\u0000${source}`;
    let compiled = this.#cache.get(key);
    if (compiled === undefined) {
      const result = compileQuery(this.schema, document, operationName);
      compiled = isCompiledQuery(result) ? result : null;
    } else {
      this.#cache.delete(key);
    }
    this.#cache.set(key, compiled);
    if (this.#cache.size > this.max) this.#cache.delete(this.#cache.keys().next().value as string);
    return compiled;
  }

  get size(): number {
    return this.#cache.size;
  }
}

/**
 * Answers queries with graphql-jit, which compiles a query into a function once (per query text,
 * see CompiledQueries) and so skips graphql-js's per-field machinery: `getDeployments` with 1,000
 * deployments is 23,000 fields. `responseForOperation` runs after Apollo has parsed and validated
 * the query (both cached per text), so the depth and size limits still apply.
 *
 * Apollo executes as usual (graphql-js) what this leaves alone: mutations and subscriptions (a
 * mutation must not run twice, and they are few and small), queries graphql-jit cannot compile,
 * and any query whose compiled run reports an error (a resolver that throws, a null in a non-null
 * field, variables that do not coerce). Queries have no side effects, so running one again gives
 * graphql-js's exact errors, formatted by the API's formatError like any other.
 */
export function fastQueryPlugin<TContext extends object>(options: FastQueryOptions = {}): ApolloServerPlugin<TContext> {
  const max = options.maxCompiledQueries ?? 200;
  const bySchema = new WeakMap<GraphQLSchema, CompiledQueries>();
  return {
    requestDidStart() {
      return Promise.resolve({
        async responseForOperation(requestContext) {
          const { schema, document, source, operation, request, contextValue } = requestContext;
          if (operation.operation !== OperationTypeNode.QUERY) return null;
          let queries = bySchema.get(schema);
          if (queries === undefined) {
            queries = new CompiledQueries(schema, max);
            bySchema.set(schema, queries);
          }
          const compiled = queries.get(source, document, request.operationName ?? undefined);
          if (compiled === null) return null;
          const result = await compiled.query(undefined, contextValue, request.variables ?? {});
          if (result.errors !== undefined && result.errors.length > 0) return null;
          return {
            http: { headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { data: result.data ?? null } },
          };
        },
      });
    },
  };
}
