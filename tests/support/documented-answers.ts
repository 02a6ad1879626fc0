import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

// What a generated client believes, as a run-time check: an answer is
// validated with the schema the served OpenAPI document gives its operation,
// status and media type (output schemas refuse unknown fields, so a field
// added to an answer but not to its schema fails too).

export type OpenApiDocument = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
  components: { schemas: Record<string, object> };
};

export type DocumentedAnswer = {
  method: string;
  /** The document's path template, e.g. /admin/users/{id} */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
};

/** The answer's differences from its documented schema; [] when it matches. */
export function documentedAnswerChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // The document's own references (#/components/...) resolve against it.
  ajv.addSchema({ $id: "openapi.json", components: document.components });
  const againstDocument = (schema: object) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/'));

  return (answer: DocumentedAnswer): string[] => {
    const at = `${answer.method.toUpperCase()} ${answer.path} → ${answer.status}`;
    const documented =
      document.paths[answer.path]?.[answer.method.toLowerCase()]?.responses[String(answer.status)];
    if (!documented) return [`${at} is not documented`];
    const [type, media] = Object.entries(documented.content ?? {})[0] ?? [];
    if (!type || !media) {
      return answer.body === null || answer.body === ""
        ? []
        : [`${at} has a body the document does not mention`];
    }
    if (!answer.contentType?.startsWith(type)) {
      return [`${at} is ${answer.contentType}, documented as ${type}`];
    }
    const validate = ajv.compile(againstDocument(media.schema));
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${at}: ${e.instancePath || "(body)"} ${e.message} ${JSON.stringify(e.params)}`,
    );
  };
}
