// Bundle the front-end into app/static/dist (run by `make assets` / `npm run build`):
// - viewer.js: the read-only BPMN viewer (window.CreditFlowViewer);
// - studio.js + studio.css: the studio's modeler page (bpmn-js modeler, properties panel, dmn-js,
//   bpmnlint), entry assets/studio/index.js;
// - htmx and the diagram CSS the viewer pages link.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";

const out = "app/static/dist";
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ["assets/viewer.js"],
  bundle: true,
  minify: true,
  format: "iife",
  outfile: `${out}/viewer.js`,
  logLevel: "warning",
});

// The bpmnlint rule pack lives in assets/studio/lint/index.js (default export `{config, resolver}`).
// Until it exists the studio builds without it (live lint then reports nothing).
const LINT_PACK = resolve("assets/studio/lint/index.js");
const lintPackPlugin = {
  name: "cf-studio-lint",
  setup(b) {
    b.onResolve({ filter: /^cf-studio-lint$/ }, () =>
      existsSync(LINT_PACK) ? { path: LINT_PACK } : { path: "none", namespace: "cf-studio-lint" },
    );
    b.onLoad({ filter: /.*/, namespace: "cf-studio-lint" }, () => ({
      contents: "export default null;",
      loader: "js",
    }));
  },
};

await build({
  entryPoints: { studio: "assets/studio/index.js" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  jsx: "automatic",
  jsxImportSource: "@bpmn-io/properties-panel/preact",
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "dataurl" },
  plugins: [lintPackPlugin],
  logLevel: "warning",
});

copyFileSync("node_modules/htmx.org/dist/htmx.min.js", `${out}/htmx.min.js`);
for (const css of ["diagram-js.css", "bpmn-js.css"]) {
  copyFileSync(`node_modules/bpmn-js/dist/assets/${css}`, `${out}/${css}`);
}

// Dashboards: Chart.js charts drawn from JSON blocks in the page.
await build({
  entryPoints: ["assets/charts.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outfile: `${out}/charts.js`,
  logLevel: "warning",
});

// Swagger UI for the API page /api/docs.
await import("./apidocs.mjs");
