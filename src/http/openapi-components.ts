import { z } from "zod";

// zod puts a schema carrying `.meta({ id })` in the `$defs` of each schema
// it converts and points at it as `#/$defs/Id`, which an OpenAPI document
// does not resolve. Here those definitions are lifted into
// `components/schemas` and the references rewritten, so each shared schema
// (Problem, User, TokenPair, ...) is written once and named.

type JsonSchema = Record<string, unknown>;

const defsPrefix = "#/$defs/";
const componentsPrefix = "#/components/schemas/";

/** Collects the named schemas met while converting an operation's schemas. */
export function componentSchemas() {
  const components: Record<string, JsonSchema> = {};

  /** A definition's name in components: `Id`, or `IdInput` where the request form differs. */
  function place(id: string, definition: JsonSchema, io: "input" | "output"): string {
    for (const name of io === "input" ? [id, `${id}Input`] : [id]) {
      const existing = components[name];
      if (!existing) {
        components[name] = definition;
        return name;
      }
      if (JSON.stringify(existing) === JSON.stringify(definition)) return name;
    }
    throw new Error(`Two different schemas are both named ${id}`);
  }

  /** The JSON Schema of `schema` for the document: named parts become `$ref`s into components. */
  function inline(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const {
      $schema: _dialect,
      $defs,
      ...root
    } = z.toJSONSchema(schema, {
      io,
      unrepresentable: "any",
      target: "draft-2020-12",
    }) as JsonSchema;
    const names = new Map<string, string>();
    const definitions = ($defs ?? {}) as Record<string, JsonSchema>;
    // Definitions may refer to each other: name them all before rewriting.
    for (const id of Object.keys(definitions)) names.set(id, id);
    const rewrite = <T>(node: T): T => {
      if (Array.isArray(node)) return node.map(rewrite) as T;
      if (!node || typeof node !== "object") return node;
      return Object.fromEntries(
        Object.entries(node).map(([key, value]) => {
          if (key === "$ref" && typeof value === "string" && value.startsWith(defsPrefix)) {
            const id = value.slice(defsPrefix.length);
            return [key, `${componentsPrefix}${names.get(id) ?? id}`];
          }
          return [key, rewrite(value)];
        }),
      ) as T;
    };
    for (const [id, definition] of Object.entries(definitions)) {
      names.set(id, place(id, rewrite(definition), io));
    }
    return rewrite(root);
  }

  return { inline, all: () => components };
}
