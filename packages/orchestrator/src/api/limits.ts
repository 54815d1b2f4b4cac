import type { ASTNode, FragmentDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';
import { GraphQLError, Kind, Lexer, Source, TokenKind } from 'graphql';
import { ErrorCode } from '@kraken/common';

export interface QueryLimits {
  /**
   * Nesting of selections below an operation's root fields. Introspection subtrees are not
   * measured here (the standard introspection query nests 15 deep through `ofType`); graphql's
   * MaxIntrospectionDepthRule, among the rules every request passes, bounds their nesting. @default 10
   */
  maxDepth: number;
  /**
   * Fields selected in one document, fragments counted once per use, introspection fields too;
   * each `__schema` or `__type` adds INTROSPECTION_COST. @default 500
   */
  maxFields: number;
  /** Request body size (HTTP) and message size (WebSocket). @default 100 KB */
  maxBodyBytes: number;
  /**
   * Tokens (names, punctuation, values) in a query, over HTTP or graphql-ws, counted by the lexer
   * before anything parses it. Validating a document walks it once per rule (about 30): 100 KB of aliases
   * cost ~100 ms and ~20 MB of garbage each, so four at once took an agent from 140 to 230 MB RSS
   * before the field count refused them. A document of `maxFields` fields with arguments needs far
   * fewer (the standard introspection query: about 200). @default 5_000
   */
  maxTokens: number;
}

export const defaultQueryLimits: QueryLimits = { maxDepth: 10, maxFields: 500, maxBodyBytes: 100 * 1024, maxTokens: 5_000 };

/**
 * What a `__schema` or `__type` field counts for, besides the fields selected under it: its answer
 * grows with the schema (every type, every field), not with the query, so a document asking for it
 * under many aliases would cost far more than its field count says. 100 lets one full introspection
 * (about 230 fields, what GraphiQL and code generators send) through the default 500 and refuses an
 * alias bomb of them before anything executes.
 */
export const INTROSPECTION_COST = 100;
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

function limitError(message: string, nodes: ASTNode, limit: string, max: number): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { krakenCode: ErrorCode.PayloadTooLarge, limit, max } });
}

/**
 * Rejects documents nested deeper than `maxDepth` or selecting more than `maxFields` fields, before
 * anything resolves: a cheap guard against queries that would make the server walk the whole
 * state (or the schema, through introspection) many times over. Fragment spreads are followed (a
 * fragment used twice counts twice).
 */
export function queryLimitRules(limits: Pick<QueryLimits, 'maxDepth' | 'maxFields'>): ValidationRule[] {
  const rule: ValidationRule = (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    let fields = 0;
    let reportedFields = false;

    /**
     * Deepest field nesting in `set` (not counted inside introspection, `depth` stays put there);
     * counts fields on the way and stops early once over either limit.
     */
    const depthOf = (set: SelectionSetNode, depth: number, visiting: Set<string>, introspecting: boolean): number => {
      let deepest = depth;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          // a constant string beside the data, added by clients to every selection: nothing to count
          if (name === '__typename') continue;
          const root = INTROSPECTION_ROOTS.has(name);
          fields += root ? 1 + INTROSPECTION_COST : 1;
          const inside = introspecting || root;
          const level = inside ? depth : depth + 1;
          const below = selection.selectionSet === undefined ? level : depthOf(selection.selectionSet, level, visiting, inside);
          deepest = Math.max(deepest, below);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, depth, visiting, introspecting));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // unknown or cyclic fragments are reported by graphql's own rules
          if (fragment === undefined || visiting.has(name)) continue;
          visiting.add(name);
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, depth, visiting, introspecting));
          visiting.delete(name);
        }
        if (deepest > limits.maxDepth || fields > limits.maxFields) return deepest;
      }
      return deepest;
    };

    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, 0, new Set(), false);
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError(
              `query is nested deeper than ${limits.maxDepth} levels, the most allowed`,
              operation,
              'depth',
              limits.maxDepth,
            ),
          );
        }
        if (fields > limits.maxFields && !reportedFields) {
          reportedFields = true;
          context.reportError(
            limitError(
              `query selects more than ${limits.maxFields} fields; at most ${limits.maxFields} are allowed`,
              operation,
              'fields',
              limits.maxFields,
            ),
          );
        }
      },
    };
  };
  return [rule];
}

/**
 * The limit error when `query` holds more than `maxTokens` tokens, read with graphql's lexer (no
 * syntax tree is built); undefined when it holds fewer, or does not lex (graphql then says why).
 */
export function tokenLimitError(query: string, maxTokens: number): GraphQLError | undefined {
  const lexer = new Lexer(new Source(query));
  try {
    for (let tokens = 0; lexer.advance().kind !== TokenKind.EOF; ) {
      tokens += 1;
      if (tokens > maxTokens) {
        return new GraphQLError(`query holds more than ${maxTokens} tokens; at most ${maxTokens} are allowed (split it, or select fewer fields)`, {
          extensions: { krakenCode: ErrorCode.PayloadTooLarge, limit: 'tokens', max: maxTokens },
        });
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
