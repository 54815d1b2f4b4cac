import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLEnumType,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLResolveInfo,
  GraphQLScalarType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import {
  Kind,
  OperationTypeNode,
  getArgumentValues,
  getVariableValues,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
} from 'graphql';

// GraphQL's Int is 32-bit
const MAX_INT = 2_147_483_647;
const MIN_INT = -2_147_483_648;

/**
 * A fast path for the API's hot queries (`getDeployments` and friends answer tens of thousands of
 * fields). graphql-js spends most of such a query in its general machinery: a path object, a
 * resolver call and a completion step per field. For the queries a UI or script sends (plain
 * selections of plain data), that work can be decided once per document: this compiles an
 * operation into a plan and runs it with a loop per object.
 *
 * It never answers differently from graphql-js. It only compiles what it fully understands
 * (queries; fields, aliases and fragments on object types; no directives; arguments only on root
 * fields; every non-root field a plain property) and gives up on anything else at run time (a
 * resolver that throws or is async, a null in a non-null position, a value that does not
 * serialise), and the caller then runs graphql-js, which produces the exact result and errors.
 */

/**
 * How a value of one output type becomes result JSON, decided when compiling: graphql-js asks
 * `isNonNullType`, `isListType`... of every value at run time, and those checks are slow.
 */
type Completion =
  | { kind: 'non-null'; of: Completion }
  | { kind: 'list'; of: Completion }
  | { kind: 'leaf'; serialize: (value: unknown) => unknown }
  | { kind: 'object'; fields: FieldPlan[]; memo: WeakMap<object, Record<string, unknown>> };

/** One selected field: where its value comes from and how it is completed. */
interface FieldPlan {
  /** The key in the result (the alias, or the field name). */
  key: string;
  name: string;
  /** `__typename`: the parent type's name, no lookup. */
  typename?: string;
  completion: Completion;
}

interface RootFieldPlan extends FieldPlan {
  definition?: GraphQLField<unknown, unknown>;
  nodes: FieldNode[];
}

const TYPENAME: Completion = { kind: 'leaf', serialize: (value) => value };

export interface QueryPlan {
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  rootType: GraphQLObjectType;
  fields: RootFieldPlan[];
}

export interface FastQueryInput {
  schema: GraphQLSchema;
  plan: QueryPlan;
  contextValue: unknown;
  rootValue?: unknown;
  variables?: Readonly<Record<string, unknown>> | undefined;
}

/** Thrown inside a run to give up; never escapes this module. */
class GiveUp extends Error {}
const giveUp = new GiveUp('fast path not applicable');

const plans = new WeakMap<DocumentNode, Map<string, QueryPlan | null>>();

/**
 * The plan for `document`'s operation (`operationName`, or its only one), compiled once per
 * document (Apollo keeps one parsed document per query text) and null when the fast path does not
 * apply. The document must have passed validation.
 */
export function queryPlanFor(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): QueryPlan | null {
  let byName = plans.get(document);
  if (byName === undefined) {
    byName = new Map();
    plans.set(document, byName);
  }
  const key = operationName ?? '';
  let plan = byName.get(key);
  if (plan === undefined) {
    plan = compileQueryPlan(schema, document, operationName ?? undefined) ?? null;
    byName.set(key, plan);
  }
  return plan;
}

/** The plan for one operation of a validated document, or undefined when the fast path does not apply. */
export function compileQueryPlan(schema: GraphQLSchema, document: DocumentNode, operationName?: string): QueryPlan | undefined {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation =
    operationName === undefined
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((o) => o.name?.value === operationName);
  const rootType = schema.getQueryType();
  if (operation?.operation !== OperationTypeNode.QUERY || rootType == null || hasDirectives(operation)) return undefined;
  try {
    const fields = collect(rootType, [operation.selectionSet], fragments).map(([key, nodes]): RootFieldPlan => {
      const first = nodes[0] as FieldNode;
      const name = first.name.value;
      if (name === '__typename') return { key, name, typename: rootType.name, completion: TYPENAME, nodes };
      const definition = rootType.getFields()[name];
      // introspection (__schema, __type) and unknown fields are graphql-js's business
      if (definition === undefined) throw giveUp;
      return { ...planField(key, nodes, definition.type, fragments), definition, nodes };
    });
    return { operation, fragments, rootType, fields };
  } catch (error) {
    if (error instanceof GiveUp) return undefined;
    throw error;
  }
}

/**
 * Runs a plan: the root fields' resolvers as graphql-js would call them (awaiting those that are
 * async), then the plain selections below. Resolves to the `data` graphql-js would return, or to
 * undefined when it gave up (run graphql-js then).
 */
export async function runQueryPlan(input: FastQueryInput): Promise<Record<string, unknown> | undefined> {
  const { schema, plan, contextValue, rootValue } = input;
  let variableValues: Record<string, unknown> = {};
  const definitions = plan.operation.variableDefinitions ?? [];
  if (definitions.length > 0) {
    const coerced = getVariableValues(schema, definitions, input.variables ?? {});
    if (coerced.errors !== undefined) return undefined;
    variableValues = coerced.coerced;
  }
  try {
    const data: Record<string, unknown> = {};
    sawMutable = false;
    for (const field of plan.fields) {
      if (field.typename !== undefined) {
        data[field.key] = field.typename;
        continue;
      }
      const definition = field.definition as GraphQLField<unknown, unknown>;
      const args = getArgumentValues(definition, field.nodes[0] as FieldNode, variableValues);
      let value: unknown;
      if (definition.resolve === undefined) {
        value = (rootValue as Record<string, unknown> | null | undefined)?.[field.name];
        if (typeof value === 'function') throw giveUp;
      } else {
        const info: GraphQLResolveInfo = {
          fieldName: field.name,
          fieldNodes: field.nodes,
          returnType: definition.type,
          parentType: plan.rootType,
          path: { prev: undefined, key: field.key, typename: plan.rootType.name },
          schema,
          fragments: plan.fragments,
          rootValue,
          operation: plan.operation,
          variableValues,
        };
        value = definition.resolve(rootValue, args, contextValue, info);
      }
      if (isPromiseLike(value)) value = await value;
      if (value instanceof Error) throw giveUp;
      data[field.key] = complete(value, field.completion);
    }
    return data;
  } catch {
    // whatever went wrong, graphql-js runs the query again and reports it its own way
    return undefined;
  }
}

function complete(value: unknown, completion: Completion): unknown {
  switch (completion.kind) {
    case 'non-null':
      if (value === null || value === undefined) throw giveUp;
      return complete(value, completion.of);
    case 'list': {
      if (value === null || value === undefined) return null;
      if (!Array.isArray(value)) throw giveUp;
      if (!Object.isFrozen(value)) sawMutable = true;
      const items: unknown[] = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) items[i] = complete(value[i], completion.of);
      return items;
    }
    case 'leaf': {
      if (value === null || value === undefined) return null;
      const serialized = completion.serialize(value);
      // graphql-js reports a leaf that serialises to nothing as an error
      if (serialized === undefined || serialized === null) throw giveUp;
      return serialized;
    }
    case 'object': {
      if (value === null || value === undefined) return null;
      if (typeof value !== 'object') throw giveUp;
      const remembered = completion.memo.get(value);
      if (remembered !== undefined) return remembered;
      const source = value as Record<string, unknown>;
      const outer = sawMutable;
      sawMutable = !Object.isFrozen(source);
      const result: Record<string, unknown> = {};
      for (const field of completion.fields) {
        if (field.typename !== undefined) {
          result[field.key] = field.typename;
          continue;
        }
        const property = source[field.name];
        // graphql-js's default resolver would call it with (args, context, info)
        if (typeof property === 'function') throw giveUp;
        result[field.key] = complete(property, field.completion);
      }
      if (!sawMutable) completion.memo.set(source, result);
      sawMutable ||= outer;
      return result;
    }
  }
}

/**
 * Set while completing an object when anything in it (itself, a list, an object below) is not
 * frozen. Only deeply frozen values have their result remembered: the store's records and the
 * API's views of them are frozen and replaced on change, so an unchanged deployment is completed
 * once per query document instead of once per request, and a changed one gets a new view, which
 * is a new key.
 */
let sawMutable = false;

/** Plans a field of `type` selected by `nodes` (all the nodes with its response key). */
function planField(
  key: string,
  nodes: FieldNode[],
  type: GraphQLOutputType,
  fragments: Record<string, FragmentDefinitionNode>,
): FieldPlan {
  const name = (nodes[0] as FieldNode).name.value;
  return { key, name, completion: completionOf(type, nodes, fragments) };
}

function completionOf(
  type: GraphQLOutputType,
  nodes: FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): Completion {
  if (isNonNullType(type)) return { kind: 'non-null', of: completionOf(type.ofType, nodes, fragments) };
  if (isListType(type)) return { kind: 'list', of: completionOf(type.ofType, nodes, fragments) };
  if (isScalarType(type) || isEnumType(type)) return { kind: 'leaf', serialize: leafSerializer(type) };
  if (!isObjectType(type)) throw giveUp; // interfaces and unions need runtime type resolution
  const fields = type.getFields();
  const selection = collect(
    type,
    nodes.map((node) => node.selectionSet).filter((set): set is SelectionSetNode => set !== undefined),
    fragments,
  ).map(([childKey, childNodes]): FieldPlan => {
    const childName = (childNodes[0] as FieldNode).name.value;
    if (childName === '__typename') return { key: childKey, name: childName, typename: type.name, completion: TYPENAME };
    const definition = fields[childName];
    // a resolver, or arguments, mean graphql-js semantics we do not copy
    if (definition === undefined || definition.resolve !== undefined || childNodes.some((n) => (n.arguments?.length ?? 0) > 0))
      throw giveUp;
    return planField(childKey, childNodes, definition.type, fragments);
  });
  return { kind: 'object', fields: selection, memo: new WeakMap() };
}

/**
 * `type.serialize`, with the common cases answered directly: graphql-js's built-in scalars return
 * a value of their own type as it is, and an enum maps its internal value to its name.
 */
function leafSerializer(type: GraphQLScalarType | GraphQLEnumType): (value: unknown) => unknown {
  const general = (value: unknown): unknown => type.serialize(value);
  if (isEnumType(type)) {
    const names = new Map(type.getValues().map((v) => [v.value, v.name]));
    return (value) => names.get(value) ?? general(value);
  }
  switch (isSpecifiedScalarType(type) ? type.name : undefined) {
    case 'String':
      return (value) => (typeof value === 'string' ? value : general(value));
    case 'Boolean':
      return (value) => (typeof value === 'boolean' ? value : general(value));
    case 'Float':
      return (value) => (typeof value === 'number' && Number.isFinite(value) ? value : general(value));
    case 'Int':
      return (value) =>
        typeof value === 'number' && Number.isInteger(value) && value <= MAX_INT && value >= MIN_INT ? value : general(value);
    default:
      return general;
  }
}

/**
 * graphql-js's CollectFields for an object type, without directives: fields grouped by response
 * key in first-seen order, fragments inlined where they apply.
 */
function collect(
  type: GraphQLObjectType,
  sets: readonly SelectionSetNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): [string, FieldNode[]][] {
  const grouped = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (hasDirectives(selection)) throw giveUp;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = grouped.get(key);
        if (list === undefined) grouped.set(key, [selection]);
        else list.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        if (condition !== undefined && condition !== type.name) throw giveUp;
        walk(selection.selectionSet);
      } else {
        const name = selection.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        const fragment = fragments[name];
        if (fragment === undefined || hasDirectives(fragment) || fragment.typeCondition.name.value !== type.name) throw giveUp;
        walk(fragment.selectionSet);
      }
    }
  };
  for (const set of sets) walk(set);
  return [...grouped];
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function hasDirectives(node: { directives?: readonly unknown[] | undefined }): boolean {
  return (node.directives?.length ?? 0) > 0;
}
