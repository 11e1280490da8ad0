// The studio's modeler page (templates/studio/draft.html): the draft's main BPMN in a bpmn-js
// Modeler with a properties panel for the engine's `spiffworkflow` extensions and live lint, one
// dmn-js tab per decision file, one JSON editor with preview per form, and save / validate /
// test-run / deploy. Exposes `window.cfStudio = {modeler, save(), lint(), validate(), ready}`.
import "./styles.js";
import BpmnModeler from "bpmn-js/lib/Modeler";
import { layoutProcess } from "bpmn-auto-layout";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import lintModule from "bpmn-js-bpmnlint";
import * as lintPack from "cf-studio-lint";

import { descriptorFor } from "./moddle.js";
import diKeeperModule from "./di-keeper.js";
import translateModule, { isEnglish, translate } from "./translate.js";
import { SpiffPropertiesModule } from "./properties/SpiffPropertiesProvider.jsx";
import { msg } from "./messages.js";
import { DmnTab } from "./dmn.js";
import { FormTab, RawTab } from "./forms.js";

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  children.flat().forEach((c) => c != null && node.append(c));
  return node;
}

const DI_NAMESPACES =
  'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" ' +
  'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
  'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"';

/**
 * The diagram laid out by bpmn-auto-layout, keeping the original text of the model: only the
 * generated `bpmndi:BPMNDiagram` sections are taken from the layout (its round trip through
 * bpmn-moddle would drop what moddle cannot resolve, e.g. a multi-instance's
 * `loopDataInputRef` naming a variable).
 */
async function withLayout(xml) {
  const laidOut = await layoutProcess(xml);
  const diagrams = laidOut.match(/<bpmndi:BPMNDiagram\b[\s\S]*?<\/bpmndi:BPMNDiagram>/g) || [];
  const end = xml.search(/<\/([\w-]+:)?definitions>\s*$/);
  if (!diagrams.length || end < 0) return laidOut;
  const declared = diagrams.map((d) => d.replace(/^<bpmndi:BPMNDiagram\b/, `<bpmndi:BPMNDiagram ${DI_NAMESPACES}`));
  return `${xml.slice(0, end)}${declared.join("\n")}\n${xml.slice(end)}`;
}

function hasDiagram(xml) {
  return /BPMNDiagram/.test(xml) && /BPMNShape/.test(xml);
}

function timeOf(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString(document.documentElement.lang || "zh-CN", { hour12: false });
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return body && body.error ? body.error : { message: JSON.stringify(body) };
  } catch (e) {
    return { message: `${response.status} ${response.statusText}` };
  }
}

/** Field messages of a 422 error envelope, flattened to lines. */
function detailLines(error, withKeys = true) {
  const lines = [];
  const walk = (value, prefix) => {
    if (!withKeys) prefix = "";
    if (value == null) return;
    if (typeof value === "string") lines.push(prefix ? `${prefix}：${value}` : value);
    else if (Array.isArray(value)) value.forEach((v) => walk(v, prefix));
    else if (typeof value === "object") {
      if (typeof value.message === "string") {
        const where = [value.file || prefix, value.element_id, value.line && `#${value.line}`]
          .filter(Boolean)
          .join(" ");
        lines.push(where ? `${where}：${value.message}` : value.message);
      } else {
        Object.entries(value).forEach(([k, v]) => walk(v, k === "fields" ? prefix : prefix ? `${prefix} ${k}` : k));
      }
    }
  };
  walk(error.details, "");
  if (!lines.length && error.message) lines.push(error.message);
  return lines;
}

class Studio {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.urls = config.urls || {};
    this.readOnly = !!config.readOnly;
    this.lockVersion = config.lockVersion;
    this.texts = { ...(config.files || {}) };
    this.mainFile = config.mainFile || Object.keys(this.texts).find((n) => n.endsWith(".bpmn"));
    this.tabs = new Map(); // file name -> tab object {name, pane, button, show(), …}
    this.dirtyFiles = new Set();
    this.bpmnDirty = false;
    this.decisionList = [];
    this.saving = null;
    this.refreshDecisions();
  }

  // --- services for the properties panel ----------------------------------------------------------

  studioService() {
    const studio = this;
    return {
      get roles() {
        return studio.config.roles || [];
      },
      get handlers() {
        return studio.config.handlers || [];
      },
      get readOnly() {
        return studio.readOnly;
      },
      forms: () =>
        Object.keys(studio.texts)
          .filter((n) => n.endsWith(".json") && !n.endsWith(".i18n.json"))
          .sort(),
      decisions: () => studio.decisionList,
      openFile: (name, focus) => studio.showTab(name, focus),
      createForm: (taskId) => studio.createForm(taskId),
      timerPreview: (kind, expression) => studio.timerPreview(kind, expression),
      get timerExamples() {
        return studio.config.timerExamples || null;
      },
    };
  }

  /** The lint pack's `{config, resolver}` for this draft (null while there is no pack). */
  lintConfig() {
    if (typeof lintPack.createLintConfig === "function") {
      return lintPack.createLintConfig({
        handlers: this.config.handlers || [],
        roles: this.config.roles && this.config.roles.length ? this.config.roles : undefined,
        formFiles: Object.keys(this.texts),
        decisionIds: this.decisionList.map((d) => d.id),
        processIds: this.otherProcessIds(),
        locale: isEnglish() ? "en" : "zh",
      });
    }
    const pack = lintPack.default;
    return pack && pack.config && pack.resolver ? pack : null;
  }

  otherProcessIds() {
    const ids = [];
    for (const [name, text] of Object.entries(this.texts)) {
      if (!name.endsWith(".bpmn") || name === this.mainFile) continue;
      for (const m of text.matchAll(/<(?:[\w-]+:)?process\b[^>]*\bid="([^"]+)"/g)) ids.push(m[1]);
    }
    return ids;
  }

  /** Re-lint with the draft's current forms and decisions (after a file was added or changed). */
  updateLintContext() {
    if (!this.modeler) return;
    const config = this.lintConfig();
    if (config) this.modeler.get("linting").setLinterConfig(config);
  }

  refreshDecisions() {
    const list = [];
    for (const [name, text] of Object.entries(this.texts)) {
      if (!name.endsWith(".dmn")) continue;
      try {
        const doc = new DOMParser().parseFromString(text, "application/xml");
        for (const node of doc.getElementsByTagNameNS("*", "decision")) {
          list.push({ id: node.getAttribute("id"), name: node.getAttribute("name"), file: name });
        }
      } catch (e) {
        /* an unparsable file lists no decisions; the server validation says why */
      }
    }
    const changed = JSON.stringify(list) !== JSON.stringify(this.decisionList);
    this.decisionList = list;
    if (changed) this.updateLintContext();
  }

  async timerPreview(kind, expression) {
    if (!this.urls.timerPreview) return { text: "", kind: "" };
    const response = await this.request("POST", this.urls.timerPreview, { kind, expression });
    if (response.ok) {
      const body = await response.json();
      if (body.ok === false) return { text: msg("timerError", { message: body.message || "" }), kind: "error" };
      return { text: [body.display || body.due, body.message].filter(Boolean).join(" · "), kind: "ok" };
    }
    const error = await errorOf(response);
    return { text: msg("timerError", { message: detailLines(error, false).join("；") }), kind: "error" };
  }

  request(method, url, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": this.config.csrfToken || "" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  // --- page skeleton --------------------------------------------------------------------------------

  async start() {
    this.tabBar = $("#studio-tabs", this.root);
    this.panes = $("#studio-panes", this.root);
    this.status = $("#studio-status", this.root);
    this.problemsBox = $("#studio-problems", this.root);
    if (this.readOnly) this.root.classList.add("cf-readonly");
    this.bindToolbar();
    const bpmnTab = this.addBpmnTab();
    // The draft holds the whole bundle; this process's files get tabs, the others are one pick
    // away in "other files" (a tab appears when one is opened).
    const related = this.relatedFiles();
    const others = [];
    for (const name of Object.keys(this.texts).sort()) {
      if (name === this.mainFile) continue;
      const hidden = !related.has(name);
      if (hidden) others.push(name);
      if (name.endsWith(".dmn")) this.addTab(name, new DmnTab(this, name), hidden);
      else if (name.endsWith(".i18n.json")) this.addTab(name, new RawTab(this, name), hidden);
      else if (name.endsWith(".json")) this.addTab(name, new FormTab(this, name), hidden);
      else this.addTab(name, new RawTab(this, name), hidden);
    }
    if (others.length) {
      this.moreFiles = el(
        "select",
        {
          class: "studio-more",
          id: "studio-more",
          "aria-label": msg("otherFiles", { n: others.length }),
          onchange: (event) => {
            const name = event.target.value;
            event.target.value = "";
            if (name) this.showTab(name);
          },
        },
        el("option", { value: "", text: msg("otherFiles", { n: others.length }) }),
        others.map((name) => el("option", { value: name, text: name })),
      );
      this.tabBar.append(this.moreFiles);
    }
    this.showTab(this.mainFile);
    await bpmnTab.load();
    this.updateStatus();
    this.followHash();
    window.addEventListener("hashchange", () => this.followHash());
  }

  /** `#element=<id>` selects that element, `#file=<name>` opens that file's tab. */
  followHash() {
    const hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (hash.get("element")) this.focusProblem({ file: hash.get("file"), element_id: hash.get("element") });
    else if (hash.get("file")) this.showTab(hash.get("file"));
  }

  /** Files of this process: its own (`key__*`), and the forms and decisions its diagram names. */
  relatedFiles() {
    const related = new Set([this.mainFile]);
    const main = this.texts[this.mainFile] || "";
    const prefix = `${this.config.key}__`;
    for (const name of Object.keys(this.texts)) if (name.startsWith(prefix)) related.add(name);
    if (this.texts[`${this.config.key}.i18n.json`] !== undefined) related.add(`${this.config.key}.i18n.json`);
    for (const m of main.matchAll(/name="formJsonSchemaFilename"\s+value="([^"]+)"/g)) related.add(m[1]);
    const called = new Set([...main.matchAll(/calledDecisionId>([^<]+)</g)].map((m) => m[1].trim()));
    for (const d of this.decisionList) if (called.has(d.id)) related.add(d.file);
    return related;
  }

  addTab(name, tab, hidden = false) {
    const label = tab.label || name;
    tab.name = name;
    tab.button = el("button", {
      type: "button",
      role: "tab",
      class: "studio-tab",
      "data-file": name,
      title: name,
      "aria-selected": "false",
      onclick: () => this.showTab(name),
      text: label,
    });
    tab.pane.classList.add("studio-pane");
    tab.pane.dataset.file = name;
    tab.pane.hidden = true;
    tab.button.hidden = hidden;
    this.tabBar.insertBefore(tab.button, this.moreFiles || null);
    this.panes.append(tab.pane);
    this.tabs.set(name, tab);
    return tab;
  }

  showTab(name, focus) {
    const tab = this.tabs.get(name);
    if (!tab) return false;
    for (const [other, t] of this.tabs) {
      const on = other === name;
      t.pane.hidden = !on;
      t.button.setAttribute("aria-selected", on ? "true" : "false");
      t.button.classList.toggle("current", on);
    }
    tab.button.hidden = false;
    this.current = name;
    if (tab.show) tab.show(focus);
    return true;
  }

  markDirty(name) {
    if (this.readOnly) return;
    if (name === this.mainFile) this.bpmnDirty = true;
    else this.dirtyFiles.add(name);
    const tab = this.tabs.get(name);
    if (tab) tab.button.classList.add("dirty");
    this.updateStatus();
  }

  isDirty() {
    return this.bpmnDirty || this.dirtyFiles.size > 0;
  }

  updateStatus(text, kind) {
    const dirty = this.isDirty();
    this.root.classList.toggle("is-dirty", dirty);
    const indicator = $("#studio-dirty", this.root);
    if (indicator) {
      indicator.hidden = !dirty;
      indicator.textContent = msg("dirty");
    }
    if (text !== undefined) {
      this.status.textContent = text;
      this.status.dataset.kind = kind || "";
    }
    document.title = (dirty ? "* " : "") + document.title.replace(/^\* /, "");
  }

  bindToolbar() {
    const on = (id, fn) => {
      const node = $(`#${id}`, this.root);
      if (node) node.addEventListener("click", fn);
    };
    on("btn-save", () => this.save().catch(() => {}));
    on("btn-validate", () => this.validate().catch(() => {}));
    on("btn-testrun", () => {
      const dialog = $("#testrun-dialog", this.root);
      if (dialog) dialog.showModal();
    });
    on("testrun-cancel", () => $("#testrun-dialog", this.root).close());
    const testrunForm = $("#testrun-form", this.root);
    if (testrunForm) {
      testrunForm.addEventListener("submit", (event) => this.submitTestrun(event, testrunForm));
    }
    const deploy = $("#btn-deploy", this.root);
    if (deploy) {
      deploy.addEventListener("click", async (event) => {
        if (!this.isDirty()) return;
        event.preventDefault();
        if (await this.save().catch(() => false)) window.location.href = deploy.href;
      });
    }
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        if (!this.readOnly) this.save().catch(() => {});
      }
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.isDirty() && !this.leaving) {
        event.preventDefault();
        event.returnValue = msg("unsavedLeave");
        return msg("unsavedLeave");
      }
      return undefined;
    });
  }

  async submitTestrun(event, form) {
    event.preventDefault();
    const error = $("#testrun-error", this.root);
    for (const field of ["sample_data", "service_results"]) {
      const value = form.elements[field] ? form.elements[field].value.trim() : "";
      try {
        if (value) JSON.parse(value);
      } catch (e) {
        error.textContent = msg("sampleInvalid", { message: e.message });
        error.hidden = false;
        form.elements[field].focus();
        return;
      }
    }
    error.hidden = true;
    if (this.isDirty() && !(await this.save().catch(() => false))) return;
    this.leaving = true;
    form.submit();
  }

  // --- the BPMN tab ---------------------------------------------------------------------------------

  addBpmnTab() {
    const studio = this;
    const pane = el(
      "div",
      { class: "studio-bpmn" },
      el("div", { class: "studio-canvas", id: "studio-canvas" }),
      el("aside", { class: "studio-properties", id: "studio-properties", "aria-label": "properties" }),
    );
    const tab = {
      label: msg("diagram"),
      pane,
      show() {
        if (studio.modeler) studio.modeler.get("canvas").resized();
      },
      load: () => this.loadBpmn(pane),
    };
    this.addTab(this.mainFile, tab);
    return tab;
  }

  createModeler(pane) {
    const additionalModules = [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      SpiffPropertiesModule,
      translateModule,
      lintModule,
      diKeeperModule,
      { cfStudio: ["value", this.studioService()] },
    ];
    const linting = { active: true };
    const lintConfig = this.lintConfig();
    if (lintConfig) linting.bpmnlint = lintConfig;
    this.modeler = new BpmnModeler({
      container: $(".studio-canvas", pane),
      propertiesPanel: { parent: $(".studio-properties", pane) },
      additionalModules,
      moddleExtensions: { spiffworkflow: descriptorFor(Object.values(this.texts)) },
      linting,
    });
    const eventBus = this.modeler.get("eventBus");
    if (this.readOnly) {
      // Nothing that the rules ask about (move, create, connect, delete, paste) is allowed, and
      // labels are not edited in place; the properties panel is made inert by studio.css.
      eventBus.on("commandStack.canExecute", 100000, () => false);
      eventBus.on("element.dblclick", 100000, () => false);
      eventBus.on("directEditing.activate", 100000, () => false);
      const panel = $(".studio-properties", pane);
      const fields = "input, textarea, select, [contenteditable]";
      panel.addEventListener(
        "keydown",
        (event) => {
          if (event.target.matches(fields) && !["Tab", "Escape"].includes(event.key)) event.preventDefault();
        },
        true,
      );
      for (const type of ["paste", "cut", "drop", "beforeinput"]) {
        panel.addEventListener(type, (event) => event.target.matches(fields) && event.preventDefault(), true);
      }
    }
    eventBus.on("commandStack.changed", (event) => {
      if (event.trigger !== "clear") this.markDirty(this.mainFile);
    });
    eventBus.on("linting.completed", ({ issues }) => {
      this.lastLint = issues;
    });
    return this.modeler;
  }

  async loadBpmn(pane) {
    const modeler = this.createModeler(pane);
    let xml = this.texts[this.mainFile] || "";
    try {
      if (!hasDiagram(xml)) {
        try {
          xml = await withLayout(xml);
        } catch (e) {
          console.warn("auto layout failed; importing without layout", e);
        }
      }
      const { warnings } = await modeler.importXML(xml);
      this.keepUnresolvedReferences(warnings);
      const canvas = modeler.get("canvas");
      canvas.zoom("fit-viewport");
      if (canvas.zoom() < 0.75) {
        // A long flow fitted into the viewport is unreadable: show its start at a readable scale.
        const box = canvas.getActiveLayer().getBBox();
        canvas.zoom(0.85);
        const viewbox = canvas.viewbox();
        canvas.viewbox({ x: box.x - 40, y: box.y - 40, width: viewbox.width, height: viewbox.height });
      }
    } catch (e) {
      this.updateStatus(msg("importFailed", { message: e.message }), "error");
      throw e;
    }
  }

  /**
   * moddle drops references it cannot resolve to an element id, but the engine reads some of them
   * as variable names (`<bpmn:loopDataInputRef>review_departments</…>` of a multi-instance):
   * put a placeholder with that id back, so the file is saved as it was read.
   */
  keepUnresolvedReferences(warnings) {
    const moddle = this.modeler.get("moddle");
    for (const warning of warnings || []) {
      const { element, property, value } = warning;
      if (!/^unresolved reference/.test(warning.message || "") || !element || !property) continue;
      const descriptor = element.$descriptor && element.$descriptor.propertiesByName[property];
      if (!descriptor || !value) continue;
      let placeholder;
      try {
        placeholder = moddle.create(descriptor.type, { id: value });
      } catch (e) {
        placeholder = moddle.create("bpmn:BaseElement", { id: value });
      }
      if (descriptor.isMany) element.get(descriptor.name).push(placeholder);
      else element.set(descriptor.name, placeholder);
    }
    const other = (warnings || []).filter((w) => !/^unresolved reference/.test(w.message || ""));
    if (other.length) console.warn("import warnings", other);
  }

  // --- files ----------------------------------------------------------------------------------------

  createForm(taskId) {
    const suggestion = `${this.config.key || "form"}__${taskId || "form"}.json`;
    const name = window.prompt(msg("newFormName"), suggestion);
    if (!name) return null;
    if (!/^[\w.-]+\.json$/.test(name) || this.texts[name] !== undefined) {
      window.alert(msg("badFormName"));
      return null;
    }
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: msg("newFormTitle"),
      type: "object",
      required: [],
      properties: {},
    };
    this.texts[name] = `${JSON.stringify(schema, null, 2)}\n`;
    this.addTab(name, new FormTab(this, name));
    this.markDirty(name);
    this.updateLintContext();
    return name;
  }

  async collectFiles() {
    const files = { ...this.texts };
    for (const tab of this.tabs.values()) {
      if (tab.flush) await tab.flush();
    }
    Object.assign(files, this.texts);
    if (this.modeler) {
      const { xml } = await this.modeler.saveXML({ format: true });
      files[this.mainFile] = xml;
    }
    return files;
  }

  // --- save / lint / validate -----------------------------------------------------------------------

  save() {
    if (this.readOnly) return Promise.reject(new Error(msg("readOnly")));
    if (!this.saving) {
      this.saving = this.doSave().finally(() => {
        this.saving = null;
      });
    }
    return this.saving;
  }

  async doSave() {
    this.updateStatus(msg("saving"), "busy");
    const files = await this.collectFiles();
    let response;
    try {
      response = await this.request("PUT", this.urls.save, { files, lockVersion: this.lockVersion });
    } catch (e) {
      this.updateStatus(msg("network"), "error");
      throw e;
    }
    if (response.ok) {
      const body = await response.json();
      this.lockVersion = body.lockVersion;
      this.texts = files;
      this.bpmnDirty = false;
      this.dirtyFiles.clear();
      for (const tab of this.tabs.values()) tab.button.classList.remove("dirty");
      this.refreshDecisions();
      this.showSaveProblem(null);
      this.updateStatus(msg("saved", { time: timeOf(body.updatedAt) }), "ok");
      return true;
    }
    const error = await errorOf(response);
    if (response.status === 409) {
      this.updateStatus(msg("conflict", { message: error.message || "" }), "error");
      this.showSaveProblem(msg("conflict", { message: error.message || "" }), [], true);
    } else if (response.status === 422) {
      this.updateStatus(msg("invalid"), "error");
      this.showSaveProblem(msg("invalid"), detailLines(error));
    } else {
      this.updateStatus(msg("failed", { message: error.message || response.status }), "error");
    }
    const failure = new Error(error.message || `HTTP ${response.status}`);
    failure.status = response.status;
    throw failure;
  }

  showSaveProblem(title, lines = [], offerReload = false) {
    const box = $("#studio-save-problem", this.root);
    if (!box) return;
    box.replaceChildren();
    box.hidden = !title;
    if (!title) return;
    box.append(el("p", { text: title }));
    if (lines.length) box.append(el("ul", {}, lines.map((line) => el("li", { text: line }))));
    if (offerReload) {
      box.append(
        el("button", {
          type: "button",
          class: "cf-button",
          id: "btn-reload",
          text: msg("reload"),
          onclick: () => {
            this.leaving = true;
            window.location.reload();
          },
        }),
      );
    }
  }

  async lint() {
    if (!this.modeler) return [];
    const issues = await this.modeler.get("linting").lint();
    const flat = [];
    for (const [rule, reports] of Object.entries(issues || {})) {
      for (const report of reports) {
        flat.push({ rule, id: report.id, message: report.message, category: report.category });
      }
    }
    return flat;
  }

  async validate() {
    if (!this.readOnly && this.isDirty()) await this.save();
    this.updateStatus(msg("validating"), "busy");
    const response = await this.request("POST", this.urls.validate, {});
    if (!response.ok) {
      const error = await errorOf(response);
      this.updateStatus(msg("failed", { message: error.message || response.status }), "error");
      throw new Error(error.message);
    }
    const body = await response.json();
    const problems = body.problems || [];
    this.showProblems(problems);
    this.updateStatus(
      problems.length ? msg("validProblems", { n: problems.length }) : msg("validOk"),
      problems.length ? "error" : "ok",
    );
    return problems;
  }

  showProblems(problems) {
    const box = this.problemsBox;
    const list = $("ul", box);
    const title = $(".studio-problems-title", box);
    list.replaceChildren();
    box.hidden = false;
    box.dataset.ok = problems.length ? "false" : "true";
    title.textContent = problems.length ? msg("validProblems", { n: problems.length }) : msg("validOk");
    const english = (document.documentElement.lang || "").startsWith("en");
    problems.forEach((problem, index) => {
      const where = [problem.file, problem.element_id, problem.line ? `#${problem.line}` : null]
        .filter(Boolean)
        .join(" · ");
      const text = (english && problem.message_en) || problem.message;
      list.append(
        el(
          "li",
          { class: `problem problem-${problem.severity || "error"}` },
          el(
            "button",
            {
              type: "button",
              class: "problem-link",
              "data-element": problem.element_id || "",
              "data-file": problem.file || "",
              "data-index": index,
              onclick: () => this.focusProblem(problem),
            },
            el("span", { class: "problem-where", text: where }),
            el("span", { class: "problem-message", text }),
          ),
        ),
      );
    });
  }

  /** Select and scroll to a problem's element, or open the tab of its file. */
  focusProblem(problem) {
    const file = problem.file;
    if (file && file !== this.mainFile && this.tabs.has(file)) {
      this.showTab(file, { elementId: problem.element_id, line: problem.line });
      return true;
    }
    this.showTab(this.mainFile);
    if (!problem.element_id || !this.modeler) return false;
    return this.selectElement(problem.element_id);
  }

  selectElement(id) {
    const registry = this.modeler.get("elementRegistry");
    const canvas = this.modeler.get("canvas");
    const selection = this.modeler.get("selection");
    let element = registry.get(id);
    if (!element) {
      // Not drawn (a lane of an undrawn lane set, a message, a flow inside a collapsed
      // sub-process's plane …): show the process properties and say where it is.
      const root = canvas.getRootElement();
      selection.select(root);
      this.updateStatus(msg("notFound", { id }), "error");
      return false;
    }
    let top = element;
    while (top.parent) top = top.parent;
    if (top !== canvas.getRootElement()) canvas.setRootElement(top);
    selection.select(element);
    if (element.waypoints || element.width) canvas.scrollToElement(element, { top: 120, left: 120, right: 120, bottom: 120 });
    return true;
  }
}

function readConfig() {
  const node = document.getElementById("studio-config");
  return node ? JSON.parse(node.textContent) : null;
}

function boot() {
  const root = document.getElementById("studio");
  const config = readConfig();
  if (!root || !config) return;
  const studio = new Studio(root, config);
  const ready = studio.start().then(() => studio);
  window.cfStudio = {
    get modeler() {
      return studio.modeler;
    },
    studio,
    config,
    save: () => studio.save(),
    lint: () => studio.lint(),
    validate: () => studio.validate(),
    select: (id) => studio.selectElement(id),
    openFile: (name) => studio.showTab(name),
    isDirty: () => studio.isDirty(),
    translate,
    ready,
  };
  ready.catch((e) => console.error(e));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
