// Copy Swagger UI (npm package swagger-ui-dist) into app/static/dist/apidocs/ for the API page
// /api/docs. Run by assets/build.mjs (`await import("./apidocs.mjs")`) or on its own:
// `node assets/apidocs.mjs`. Without it the page still lists every operation, server-rendered.
// SWAGGER_UI_DIST=<dir> reads the package from another folder (default node_modules/...).
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const source = process.env.SWAGGER_UI_DIST || "node_modules/swagger-ui-dist";
const out = "app/static/dist/apidocs";
const files = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

if (!existsSync(join(source, "swagger-ui-bundle.js"))) {
  throw new Error(`swagger-ui-dist not found in ${source}: add it to package.json devDependencies`);
}
mkdirSync(out, { recursive: true });
for (const file of files) {
  if (existsSync(join(source, file))) copyFileSync(join(source, file), join(out, file));
}
