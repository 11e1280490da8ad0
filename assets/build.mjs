// Bundle the front-end into app/static/dist (run by `make assets` / `npm run build`).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

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
copyFileSync("node_modules/htmx.org/dist/htmx.min.js", `${out}/htmx.min.js`);
for (const css of ["diagram-js.css", "bpmn-js.css"]) {
  copyFileSync(`node_modules/bpmn-js/dist/assets/${css}`, `${out}/${css}`);
}
