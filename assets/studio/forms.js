// Tabs for the draft's form files (JSON Schema in a text editor, "预览" renders it on the server
// with the same template the task pages use) and for any other file (plain text).
import { msg } from "./messages.js";

function shortName(studio, name) {
  const prefix = `${studio.config.key}__`;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

function lineOffset(text, line) {
  let offset = 0;
  for (let i = 1; i < line; i += 1) {
    const next = text.indexOf("\n", offset);
    if (next < 0) break;
    offset = next + 1;
  }
  return offset;
}

class TextTab {
  constructor(studio, name, className) {
    this.studio = studio;
    this.name = name;
    this.pane = document.createElement("div");
    this.pane.className = className;
    this.editor = document.createElement("textarea");
    this.editor.className = "studio-code";
    this.editor.spellcheck = false;
    this.editor.value = studio.texts[name] || "";
    this.editor.readOnly = studio.readOnly;
    this.editor.setAttribute("aria-label", name);
    this.editor.addEventListener("input", () => {
      studio.texts[name] = this.editor.value;
      studio.markDirty(name);
      this.changed();
    });
  }

  changed() {}

  show(focus) {
    if (focus && focus.line) {
      const start = lineOffset(this.editor.value, focus.line);
      const end = this.editor.value.indexOf("\n", start);
      this.editor.focus();
      this.editor.setSelectionRange(start, end < 0 ? this.editor.value.length : end);
    }
  }
}

export class RawTab extends TextTab {
  constructor(studio, name) {
    super(studio, name, "studio-raw");
    this.label = name;
    this.pane.append(this.editor);
  }
}

export class FormTab extends TextTab {
  constructor(studio, name) {
    super(studio, name, "studio-form");
    this.label = `☰ ${shortName(studio, name)}`;
    const tools = document.createElement("div");
    tools.className = "studio-form-tools";
    this.previewButton = document.createElement("button");
    this.previewButton.type = "button";
    this.previewButton.className = "cf-button";
    this.previewButton.dataset.action = "preview";
    this.previewButton.textContent = msg("preview");
    this.previewButton.addEventListener("click", () => this.preview());
    const format = document.createElement("button");
    format.type = "button";
    format.className = "cf-button";
    format.textContent = msg("formatJson");
    format.hidden = studio.readOnly;
    format.addEventListener("click", () => this.format());
    this.error = document.createElement("p");
    this.error.className = "error studio-form-error";
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    tools.append(this.previewButton, format, this.error);
    const left = document.createElement("div");
    left.className = "studio-form-editor";
    left.append(tools, this.editor);
    this.output = document.createElement("div");
    this.output.className = "studio-form-preview";
    this.output.setAttribute("aria-live", "polite");
    this.pane.append(left, this.output);
  }

  parse() {
    try {
      const value = JSON.parse(this.editor.value);
      this.error.hidden = true;
      return { ok: true, value };
    } catch (e) {
      this.error.textContent = msg("jsonError", { message: e.message });
      this.error.hidden = false;
      return { ok: false };
    }
  }

  changed() {
    clearTimeout(this.parseTimer);
    this.parseTimer = setTimeout(() => this.parse(), 400);
  }

  format() {
    const parsed = this.parse();
    if (!parsed.ok) return;
    const text = `${JSON.stringify(parsed.value, null, 2)}\n`;
    if (text !== this.editor.value) {
      this.editor.value = text;
      this.studio.texts[this.name] = text;
      this.studio.markDirty(this.name);
    }
  }

  async preview() {
    const parsed = this.parse();
    if (!parsed.ok) return;
    const url = this.studio.urls.formPreview;
    if (!url) return;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/html, application/json",
          "X-CSRFToken": this.studio.config.csrfToken || "",
        },
        body: JSON.stringify({ schema: parsed.value, file: this.name }),
      });
    } catch (e) {
      this.error.textContent = msg("network");
      this.error.hidden = false;
      return;
    }
    if (response.ok) {
      this.output.innerHTML = await response.text();
      // The preview is for looking only: nothing in it submits.
      this.output.querySelectorAll("form").forEach((form) =>
        form.addEventListener("submit", (event) => event.preventDefault()),
      );
      return;
    }
    let message = `${response.status}`;
    try {
      const body = await response.json();
      const error = body.error || {};
      const details = error.details ? Object.values(error.details).flat().join("；") : "";
      message = [error.message, details].filter(Boolean).join(" ");
    } catch (e) {
      /* keep the status */
    }
    this.error.textContent = msg("previewFailed", { message });
    this.error.hidden = false;
  }
}
