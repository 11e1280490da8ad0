// One tab per DMN file of the draft: dmn-js (decision tables editable), created when the tab is
// first opened. The file's text in `studio.texts` is refreshed from the editor before a save.
import DmnModeler from "dmn-js/lib/Modeler";
import DmnViewer from "dmn-js/lib/Viewer";

import translateModule from "./translate.js";
import { msg } from "./messages.js";

function shortName(studio, name) {
  const prefix = `${studio.config.key}__`;
  const base = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  return `▦ ${base}`;
}

export class DmnTab {
  constructor(studio, name) {
    this.studio = studio;
    this.name = name;
    this.label = shortName(studio, name);
    this.pane = document.createElement("div");
    this.pane.className = "studio-dmn";
    this.views = document.createElement("div");
    this.views.className = "studio-dmn-views";
    this.container = document.createElement("div");
    this.container.className = "studio-dmn-canvas";
    this.error = document.createElement("p");
    this.error.className = "error";
    this.error.hidden = true;
    this.pane.append(this.views, this.error, this.container);
    this.changed = false;
    this.watched = new WeakSet();
  }

  ensure() {
    if (!this.loading) this.loading = this.load();
    return this.loading;
  }

  async load() {
    const Editor = this.studio.readOnly ? DmnViewer : DmnModeler;
    this.modeler = new Editor({
      container: this.container,
      // dmn-js replaces `common.additionalModules`; each view type gets the translation.
      drd: { additionalModules: [translateModule] },
      decisionTable: { additionalModules: [translateModule] },
      literalExpression: { additionalModules: [translateModule] },
      boxedExpression: { additionalModules: [translateModule] },
    });
    this.modeler.on("views.changed", ({ views, activeView }) => this.renderViews(views, activeView));
    try {
      await this.modeler.importXML(this.studio.texts[this.name]);
    } catch (e) {
      this.error.textContent = msg("dmnFailed", { message: e.message });
      this.error.hidden = false;
      return;
    }
    const table = this.modeler.getViews().find((v) => v.type === "decisionTable");
    if (table) await this.modeler.open(table);
  }

  watchActive() {
    const viewer = this.modeler.getActiveViewer();
    if (!viewer || this.watched.has(viewer)) return;
    this.watched.add(viewer);
    viewer.get("eventBus").on("commandStack.changed", () => {
      this.changed = true;
      this.studio.markDirty(this.name);
    });
  }

  renderViews(views, activeView) {
    this.watchActive();
    this.views.replaceChildren();
    const label = document.createElement("span");
    label.className = "muted";
    label.textContent = msg("decisions");
    this.views.append(label);
    for (const view of views.filter((v) => v.type !== "drd")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cf-chip";
      button.dataset.decision = view.element.id;
      button.textContent = view.element.name || view.element.id;
      if (activeView && activeView.element === view.element) button.classList.add("current");
      button.addEventListener("click", () => this.modeler.open(view));
      this.views.append(button);
    }
  }

  async show(focus) {
    await this.ensure();
    if (!this.modeler) return;
    const id = focus && focus.elementId;
    if (id) {
      const views = this.modeler.getViews();
      const view =
        views.find((v) => v.element.id === id) ||
        views.find((v) => v.type !== "drd" && JSON.stringify(v.element.decisionLogic?.rule?.map((r) => r.id) || []).includes(`"${id}"`));
      if (view) await this.modeler.open(view);
    }
  }

  async flush() {
    if (!this.changed || !this.modeler) return;
    const { xml } = await this.modeler.saveXML({ format: true });
    this.studio.texts[this.name] = xml;
    this.changed = false;
    this.studio.refreshDecisions();
  }
}
