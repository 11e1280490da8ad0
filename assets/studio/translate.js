// The modeler's own texts in Chinese: overrides diagram-js's `translate` service (palette,
// context pad, replace menu, properties panel, lint button and our groups). English when the page
// is `<html lang="en">`: the keys are the toolkit's English texts.

import ZH from "./zh.js";

export function isEnglish() {
  return (document.documentElement.lang || "").toLowerCase().startsWith("en");
}

export function translate(template, replacements) {
  const text = isEnglish() ? template : ZH[template] || template;
  const values = replacements || {};
  return text.replace(/{([^}]+)}/g, (match, key) => (key in values ? values[key] : match));
}

export default { translate: ["value", translate] };
