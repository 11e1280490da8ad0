// Moddle descriptor of the `spiffworkflow` extension namespace: every element the engine
// (SpiffWorkflow 3.2) reads, so the properties panel can edit them. Elements of this namespace
// that the descriptor does not know would be dropped by moddle on import (a known package with an
// unknown type is unparsable), so `descriptorFor(xmlTexts)` adds a generic type for every other
// `spiffworkflow:*` element found in the draft: its attributes, text and children then survive a
// save untouched.

export const SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core";

const body = (name, extra = {}) => ({
  name,
  superClass: ["Element"],
  properties: [{ name: "value", isBody: true, type: "String" }],
  ...extra,
});

const KNOWN = [
  {
    name: "Properties",
    superClass: ["Element"],
    properties: [{ name: "properties", type: "Property", isMany: true }],
  },
  {
    name: "Property",
    superClass: ["Element"],
    properties: [
      { name: "name", isAttr: true, type: "String" },
      { name: "value", isAttr: true, type: "String" },
    ],
  },
  body("InstructionsForEndUser"),
  body("PreScript"),
  body("PostScript"),
  body("CalledDecisionId"),
  body("MessageVariable"),
  body("MessagePayload"),
  body("SignalPayload"),
  body("SignalVariable"),
  {
    name: "ServiceTaskOperator",
    superClass: ["Element"],
    properties: [
      { name: "id", isAttr: true, type: "String" },
      { name: "resultVariable", isAttr: true, type: "String" },
      { name: "parameterList", type: "Parameters" },
    ],
  },
  {
    name: "Parameters",
    superClass: ["Element"],
    properties: [{ name: "parameters", type: "Parameter", isMany: true }],
  },
  {
    name: "Parameter",
    superClass: ["Element"],
    properties: [
      { name: "id", isAttr: true, type: "String" },
      { name: "type", isAttr: true, type: "String" },
      { name: "value", isAttr: true, type: "String" },
    ],
  },
  {
    name: "ProcessVariableCorrelation",
    superClass: ["Element"],
    properties: [
      { name: "propertyId", type: "PropertyId" },
      { name: "expression", type: "Expression" },
    ],
  },
  body("PropertyId"),
  body("Expression"),
];

const KNOWN_NAMES = new Set(KNOWN.map((t) => t.name));

const typeName = (localName) => localName.charAt(0).toUpperCase() + localName.slice(1);

/** Local names of `spiffworkflow:*` elements in the given XML texts that KNOWN lacks. */
export function unknownSpiffElements(texts) {
  const found = new Set();
  for (const text of texts) {
    const prefixes = new Set(["spiffworkflow"]);
    for (const m of text.matchAll(/xmlns:([\w.-]+)\s*=\s*["']([^"']+)["']/g)) {
      if (m[2] === SPIFF_URI) prefixes.add(m[1]);
    }
    for (const prefix of prefixes) {
      const re = new RegExp(`<${prefix.replace(/[.-]/g, "\\$&")}:([A-Za-z_][\\w.-]*)`, "g");
      for (const m of text.matchAll(re)) {
        if (!KNOWN_NAMES.has(typeName(m[1]))) found.add(m[1]);
      }
    }
  }
  return [...found];
}

/** The descriptor for a draft: the known types plus a generic type per unknown element. */
export function descriptorFor(texts = []) {
  const extra = unknownSpiffElements(texts).map((local) => ({
    name: typeName(local),
    superClass: ["Element"],
    properties: [
      { name: "value", isBody: true, type: "String" },
      { name: "children", type: "Element", isMany: true },
    ],
  }));
  return {
    name: "SpiffWorkflow",
    uri: SPIFF_URI,
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [...KNOWN, ...extra],
  };
}
