// Is an openAPIV3Schema one that the API server accepts for an apiextensions.k8s.io/v1 CRD?
//
// The API server refuses a CRD whose schema is not "structural" and prunes whatever a structural
// schema does not declare, so a mistake here either fails `kubectl apply` on a real cluster or
// silently drops fields users wrote. These are the rules of the Kubernetes documentation
// ("Specifying a structural schema") and of the apiextensions validation, checked offline:
//   - every node outside allOf/anyOf/oneOf/not has a type (x-kubernetes-int-or-string and
//     x-kubernetes-preserve-unknown-fields excepted); the root is an object;
//   - inside the junctors only value validations: no type, description, title, default,
//     additionalProperties, nullable or x-kubernetes-*; every field named there is also
//     declared outside;
//   - no $ref, definitions, dependencies, additionalItems, patternProperties, id,
//     uniqueItems: true, type: null or items as a list; properties and additionalProperties
//     not both; no additionalProperties at the root;
//   - root metadata may restrict only name and generateName;
//   - list and map extensions are consistent (list-type map has scalar, required keys);
//   - patterns are RE2 (the API server's regexp engine): no lookaround, no back-references.

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

const VALUE_VALIDATIONS = [
  "format",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "enum",
  "maxProperties",
  "minProperties",
  "required",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "properties",
  "items",
];

const EXTENSIONS = [
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
];

// Every field of JSONSchemaProps that a structural schema may use outside the junctors.
const KNOWN = new Set([
  ...VALUE_VALIDATIONS,
  ...EXTENSIONS,
  "type",
  "description",
  "title",
  "default",
  "nullable",
  "additionalProperties",
  "example",
  "externalDocs",
]);

const FORBIDDEN = {
  $ref: "$ref is not supported",
  definitions: "definitions is not supported",
  dependencies: "dependencies is not supported",
  additionalItems: "additionalItems is not supported",
  patternProperties: "patternProperties is not supported",
  id: "id is not supported",
  $schema: "is not read by Kubernetes; leave it out",
};

// What the API server allows at the root of a schema.
const ROOT_ALLOWED = new Set([
  "description",
  "type",
  "format",
  "title",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "required",
  "items",
  "properties",
  "externalDocs",
  "example",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-validations",
]);

const JUNCTORS = ["allOf", "anyOf", "oneOf"];

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// `options.forbidPreserveUnknownFields`: a project rule on top of Kubernetes' own, so that the
// API server prunes (or, with kubectl's strict field validation, rejects) every unknown field.
export function checkStructural(schema, path = "openAPIV3Schema", options = {}) {
  const problems = [];
  const counter = { nodes: 0 };
  const report = (where, message) => problems.push(`${where}: ${message}`);
  if (!isObject(schema)) {
    report(path, "must be an object");
    return { problems, nodes: 0 };
  }
  for (const key of Object.keys(schema)) {
    if (!ROOT_ALLOWED.has(key) && KNOWN.has(key))
      report(`${path}.${key}`, "not allowed at the root");
  }
  checkNode(schema, path, "root", { report, counter, options });
  return { problems, nodes: counter.nodes };
}

function checkNode(node, path, level, ctx) {
  const { report } = ctx;
  if (!isObject(node)) {
    report(path, "must be a schema object");
    return;
  }
  ctx.counter.nodes++;

  for (const [key, value] of Object.entries(node)) {
    if (key in FORBIDDEN) report(`${path}.${key}`, FORBIDDEN[key]);
    else if (!KNOWN.has(key)) report(`${path}.${key}`, "unknown schema keyword");
    if (key === "uniqueItems" && value === true) {
      report(`${path}.uniqueItems`, "cannot be true (quadratic); use x-kubernetes-list-type: set");
    }
  }

  const intOrString = node["x-kubernetes-int-or-string"] === true;
  const preserve = node["x-kubernetes-preserve-unknown-fields"];
  const embedded = node["x-kubernetes-embedded-resource"] === true;

  if (node.type === undefined) {
    if (embedded)
      report(`${path}.type`, "must be object if x-kubernetes-embedded-resource is true");
    else if (!intOrString && preserve !== true) {
      const where = { root: "at the root", item: "for array items", field: "for object fields" };
      report(`${path}.type`, `must not be empty ${where[level]}`);
    }
  } else if (typeof node.type !== "string") {
    report(`${path}.type`, "must be one type, not a list");
  } else if (node.type === "null") {
    report(`${path}.type`, "cannot be null; use nullable: true");
  } else if (!TYPES.has(node.type)) {
    report(`${path}.type`, `unsupported type ${node.type}`);
  } else if (intOrString) {
    report(`${path}.type`, "must be empty with x-kubernetes-int-or-string");
  }
  if (level === "root" && node.type !== "object")
    report(`${path}.type`, "must be object at the root");

  if (preserve !== undefined && preserve !== true) {
    report(`${path}.x-kubernetes-preserve-unknown-fields`, "must be true or absent");
  }
  if (preserve === true && ctx.options.forbidPreserveUnknownFields) {
    report(
      `${path}.x-kubernetes-preserve-unknown-fields`,
      "not used in podmortem's CRDs: declare the fields so that unknown ones are pruned",
    );
  }
  if (intOrString && preserve === true) {
    report(
      path,
      "x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields exclude each other",
    );
  }
  if (embedded && preserve !== true && !isObject(node.properties)) {
    report(`${path}.properties`, "must not be empty if x-kubernetes-embedded-resource is true");
  }

  // Objects: properties are for structs, additionalProperties for maps.
  if (node.properties !== undefined && !isObject(node.properties)) {
    report(`${path}.properties`, "must be a mapping of field names to schemas");
  }
  const hasProperties = isObject(node.properties) && Object.keys(node.properties).length > 0;
  if (node.additionalProperties !== undefined) {
    if (hasProperties && node.additionalProperties !== true) {
      report(
        `${path}.additionalProperties`,
        "additionalProperties and properties are mutually exclusive",
      );
    }
    if (isObject(node.additionalProperties)) {
      checkNode(node.additionalProperties, `${path}.additionalProperties`, "field", ctx);
    } else if (typeof node.additionalProperties !== "boolean") {
      report(`${path}.additionalProperties`, "must be a schema or a boolean");
    }
  }

  // Arrays.
  if (Array.isArray(node.items)) {
    report(`${path}.items`, "must be a schema object, not a list");
  } else if (node.items !== undefined) {
    checkNode(node.items, `${path}.items`, "item", ctx);
  } else if (node.type === "array") {
    report(`${path}.items`, "must be specified for an array");
  }

  if (isObject(node.properties)) {
    for (const [name, child] of Object.entries(node.properties)) {
      checkNode(child, `${path}.properties.${name}`, "field", ctx);
    }
  }
  if (level === "root" || embedded) checkResourceMeta(node, path, level, ctx);

  checkExtensions(node, path, ctx);
  checkValueValidations(node, path, ctx);

  const skipFirstAnyOf = intOrString && isIntOrStringAnyOf(node.anyOf);
  for (const junctor of JUNCTORS) {
    if (node[junctor] === undefined) continue;
    if (!Array.isArray(node[junctor])) {
      report(`${path}.${junctor}`, "must be a list of schemas");
      continue;
    }
    if (junctor === "anyOf" && skipFirstAnyOf) continue;
    node[junctor].forEach((branch, i) =>
      checkJunctor(branch, node, `${path}.${junctor}[${i}]`, ctx),
    );
  }
  if (node.not !== undefined) checkJunctor(node.not, node, `${path}.not`, ctx);
}

// The two shapes Kubernetes allows for int-or-string: anyOf: [{type: integer}, {type: string}].
function isIntOrStringAnyOf(anyOf) {
  return (
    Array.isArray(anyOf) &&
    anyOf.length === 2 &&
    anyOf.every((s) => isObject(s) && Object.keys(s).length === 1) &&
    anyOf[0].type === "integer" &&
    anyOf[1].type === "string"
  );
}

function checkResourceMeta(node, path, level, ctx) {
  const props = isObject(node.properties) ? node.properties : {};
  for (const name of ["apiVersion", "kind"]) {
    if (props[name] !== undefined && props[name].type !== "string") {
      ctx.report(`${path}.properties.${name}.type`, "must be string");
    }
  }
  const meta = props.metadata;
  if (meta === undefined) return;
  if (meta.type !== "object") ctx.report(`${path}.properties.metadata.type`, "must be object");
  if (level !== "root") return;
  // ObjectMeta belongs to the API server: a CRD may only narrow name and generateName.
  const extra = Object.keys(meta).filter((key) => key !== "type" && key !== "properties");
  const fields = isObject(meta.properties) ? Object.keys(meta.properties) : [];
  const others = fields.filter((name) => name !== "name" && name !== "generateName");
  if (extra.length > 0 || others.length > 0) {
    ctx.report(
      `${path}.properties.metadata`,
      `must not specify anything other than name and generateName (found ${[...extra, ...others].join(", ")})`,
    );
  }
}

function checkExtensions(node, path, ctx) {
  const { report } = ctx;
  const listType = node["x-kubernetes-list-type"];
  const mapKeys = node["x-kubernetes-list-map-keys"];
  const mapType = node["x-kubernetes-map-type"];
  if (listType !== undefined) {
    if (node.type !== "array")
      report(`${path}.type`, "must be array if x-kubernetes-list-type is set");
    if (!["atomic", "set", "map"].includes(listType)) {
      report(`${path}.x-kubernetes-list-type`, "must be atomic, set or map");
    }
  }
  if (mapKeys !== undefined && listType !== "map") {
    report(`${path}.x-kubernetes-list-type`, "must be map if x-kubernetes-list-map-keys is set");
  }
  if (listType === "map") {
    const items = isObject(node.items) ? node.items : {};
    if (!Array.isArray(mapKeys) || mapKeys.length === 0) {
      report(
        `${path}.x-kubernetes-list-map-keys`,
        "must not be empty if x-kubernetes-list-type is map",
      );
    } else {
      if (items.type !== "object")
        report(`${path}.items.type`, "must be object for a list-type map");
      const required = new Set(items.required ?? []);
      if (new Set(mapKeys).size !== mapKeys.length) {
        report(`${path}.x-kubernetes-list-map-keys`, "must not repeat a key");
      }
      for (const key of mapKeys) {
        const keySchema = items.properties?.[key];
        if (keySchema === undefined) {
          report(`${path}.x-kubernetes-list-map-keys`, `${key} is not a property of the items`);
          continue;
        }
        if (keySchema.type === "object" || keySchema.type === "array") {
          report(`${path}.items.properties.${key}.type`, "a list map key must be a scalar");
        }
        if (!required.has(key) && keySchema.default === undefined) {
          report(
            `${path}.items.properties.${key}`,
            "a list map key must be required or have a default",
          );
        }
        if (keySchema.nullable === true) {
          report(`${path}.items.properties.${key}.nullable`, "a list map key cannot be nullable");
        }
      }
    }
  }
  if (listType === "set" && isObject(node.items)) {
    const items = node.items;
    if (items.nullable === true) report(`${path}.items.nullable`, "set items cannot be nullable");
    if (items.type === "object" && items["x-kubernetes-map-type"] !== "atomic") {
      report(`${path}.items`, "object items of a set must be x-kubernetes-map-type: atomic");
    }
    if (items.type === "array" && (items["x-kubernetes-list-type"] ?? "atomic") !== "atomic") {
      report(`${path}.items`, "list items of a set must be atomic");
    }
  }
  if (mapType !== undefined) {
    if (node.type !== "object")
      report(`${path}.type`, "must be object if x-kubernetes-map-type is set");
    if (!["atomic", "granular"].includes(mapType)) {
      report(`${path}.x-kubernetes-map-type`, "must be atomic or granular");
    }
  }
  const rules = node["x-kubernetes-validations"];
  if (rules !== undefined) {
    if (!Array.isArray(rules)) {
      report(`${path}.x-kubernetes-validations`, "must be a list");
    } else {
      rules.forEach((rule, i) => {
        const where = `${path}.x-kubernetes-validations[${i}]`;
        if (!isObject(rule) || typeof rule.rule !== "string" || rule.rule.trim() === "") {
          report(`${where}.rule`, "must be a non-empty CEL expression");
          return;
        }
        const known = [
          "rule",
          "message",
          "messageExpression",
          "reason",
          "fieldPath",
          "optionalOldSelf",
        ];
        for (const key of Object.keys(rule)) {
          if (!known.includes(key)) report(`${where}.${key}`, "unknown field");
        }
        if (
          rule.message !== undefined &&
          (typeof rule.message !== "string" || /[\r\n]/.test(rule.message.trim()))
        ) {
          report(`${where}.message`, "must be one line");
        }
        if (/[\r\n]/.test(rule.rule.trim()) && !rule.message) {
          report(`${where}.message`, "is required when the rule spans lines");
        }
        if (
          rule.reason !== undefined &&
          ![
            "FieldValueInvalid",
            "FieldValueForbidden",
            "FieldValueRequired",
            "FieldValueDuplicate",
          ].includes(rule.reason)
        ) {
          report(`${where}.reason`, "unsupported reason");
        }
      });
    }
  }
}

function checkValueValidations(node, path, ctx) {
  const { report } = ctx;
  if (node.pattern !== undefined) {
    if (typeof node.pattern !== "string") {
      report(`${path}.pattern`, "must be a string");
    } else {
      // Go's regexp (RE2) has no lookaround and no back-references; JavaScript has both, so a
      // pattern could pass here and be refused by the API server.
      if (/\(\?<?[=!]|\\[1-9]/.test(node.pattern)) {
        report(`${path}.pattern`, "uses lookaround or back-references, which RE2 does not support");
      }
      try {
        new RegExp(node.pattern, "u");
      } catch (error) {
        report(`${path}.pattern`, `not a valid regular expression: ${error.message}`);
      }
    }
  }
  if (
    node.required !== undefined &&
    (!Array.isArray(node.required) || node.required.some((r) => typeof r !== "string"))
  ) {
    report(`${path}.required`, "must be a list of field names");
  }
  if (node.enum !== undefined && !Array.isArray(node.enum))
    report(`${path}.enum`, "must be a list");
}

// A branch of allOf/anyOf/oneOf/not: value validations only, and only on fields that the
// surrounding (structural) schema declares. `outer` is the structural node at the same place.
function checkJunctor(branch, outer, path, ctx) {
  const { report } = ctx;
  if (!isObject(branch)) {
    report(path, "must be a schema object");
    return;
  }
  for (const key of Object.keys(branch)) {
    if (key in FORBIDDEN) report(`${path}.${key}`, FORBIDDEN[key]);
    else if (!VALUE_VALIDATIONS.includes(key)) {
      const known = KNOWN.has(key);
      report(
        `${path}.${key}`,
        known
          ? "must not be used inside allOf/anyOf/oneOf/not to be structural"
          : "unknown schema keyword",
      );
    }
  }
  if (branch.uniqueItems === true) report(`${path}.uniqueItems`, "cannot be true");
  checkValueValidations(branch, path, ctx);

  if (isObject(branch.properties)) {
    for (const [name, sub] of Object.entries(branch.properties)) {
      if (name === "metadata") {
        report(`${path}.properties.metadata`, "must not be specified in a nested context");
        continue;
      }
      const declared = isObject(outer.properties) ? outer.properties[name] : undefined;
      const outerField =
        declared ?? (isObject(outer.additionalProperties) ? outer.additionalProperties : undefined);
      if (outerField === undefined) {
        report(`${path}.properties.${name}`, "must also be declared outside allOf/anyOf/oneOf/not");
        continue;
      }
      checkJunctor(sub, outerField, `${path}.properties.${name}`, ctx);
    }
  }
  if (branch.items !== undefined) {
    if (!isObject(outer.items))
      report(`${path}.items`, "must also be declared outside allOf/anyOf/oneOf/not");
    else checkJunctor(branch.items, outer.items, `${path}.items`, ctx);
  }
  for (const junctor of JUNCTORS) {
    if (Array.isArray(branch[junctor])) {
      branch[junctor].forEach((sub, i) =>
        checkJunctor(sub, outer, `${path}.${junctor}[${i}]`, ctx),
      );
    }
  }
  if (branch.not !== undefined) checkJunctor(branch.not, outer, `${path}.not`, ctx);
}
