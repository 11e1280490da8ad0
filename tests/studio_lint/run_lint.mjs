// Lint BPMN documents with the studio's rule pack (assets/studio/lint) the way the modeler
// does: bpmn-moddle (plus a spiffworkflow descriptor when given) and bpmnlint's Linter.
//
// usage:  node run_lint.mjs [locale]   (locale of the messages: "zh", the default, or "en")
// stdin:  {"descriptor": "path/to/spiffworkflow.json" | "path/to/moddle.js" | null,
//          "locale": "zh" | "en" (optional, overrides the argument),
//          "cases": {"<key>": {"xml": "...", "context": {handlers, roles, formFiles, ...}}}}
// A case's own `context.locale` wins over both.
// A .js descriptor is the modeler's module (assets/studio/moddle.js): its
// `descriptorFor([xml])` gives the descriptor for each document, as the modeler builds it.
// stdout: {"<key>": {"issues": [{rule, id, message, category}], "warnings": [...], "error": null}}

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BpmnModdle } from 'bpmn-moddle';
import bpmnlint from 'bpmnlint';

import { createLintConfig } from '../../assets/studio/lint/index.js';

const { Linter } = bpmnlint;

async function lintOne(xml, context, extensions, locale) {
  const moddle = new BpmnModdle(extensions);
  const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
  const linter = new Linter(createLintConfig({ locale, ...(context || {}) }));
  const results = await linter.lint(rootElement);
  const issues = [];
  for (const [ rule, reports ] of Object.entries(results)) {
    for (const report of reports) {
      issues.push({ rule, id: report.id ?? null, message: report.message, category: report.category });
    }
  }
  return { issues, warnings: warnings.map((w) => w.message), error: null };
}

const request = JSON.parse(readFileSync(0, 'utf8'));
const locale = request.locale || process.argv[2] || undefined;
let descriptorFor = () => null;
if (request.descriptor && request.descriptor.endsWith('.js')) {
  const module = await import(pathToFileURL(resolve(request.descriptor)).href);
  descriptorFor = (xml) => module.descriptorFor([ xml ]);
} else if (request.descriptor) {
  const descriptor = JSON.parse(readFileSync(request.descriptor, 'utf8'));
  descriptorFor = () => descriptor;
}
const output = {};
for (const [ key, { xml, context } ] of Object.entries(request.cases)) {
  try {
    const descriptor = descriptorFor(xml);
    const extensions = descriptor ? { [descriptor.prefix]: descriptor } : {};
    output[key] = await lintOne(xml, context, extensions, locale);
  } catch (error) {
    output[key] = { issues: [], warnings: [], error: String(error && error.stack || error) };
  }
}
process.stdout.write(JSON.stringify(output));
