// Texts of the studio page that the script writes (the template renders the static ones).
import { isEnglish } from "./translate.js";

const TEXTS = {
  saved: ["已保存（{time}）", "Saved ({time})"],
  saving: ["正在保存……", "Saving…"],
  dirty: ["有未保存的修改", "Unsaved changes"],
  clean: ["没有未保存的修改", "No unsaved changes"],
  readOnly: ["只读：不能修改或保存。", "Read-only: changes cannot be saved."],
  conflict: ["保存冲突：{message}", "Save conflict: {message}"],
  reload: ["重新加载最新版本（放弃我的修改）", "Reload the latest version (discard my changes)"],
  invalid: ["未能保存，请先改正：", "Not saved; fix these first:"],
  failed: ["保存失败：{message}", "Saving failed: {message}"],
  network: ["无法连接服务器，请稍后重试。", "The server could not be reached; try again."],
  validating: ["正在校验……", "Validating…"],
  validOk: ["校验通过：可以发布。", "Validation passed: ready to deploy."],
  validProblems: ["校验发现 {n} 个问题（点击定位）：", "Validation found {n} problem(s) (click to locate):"],
  importFailed: ["流程图无法打开：{message}", "The diagram could not be opened: {message}"],
  dmnFailed: ["决策表无法打开：{message}", "The decision table could not be opened: {message}"],
  jsonError: ["JSON 格式错误：{message}", "Invalid JSON: {message}"],
  preview: ["预览", "Preview"],
  previewFailed: ["表单预览失败：{message}", "Form preview failed: {message}"],
  formatJson: ["整理格式", "Format"],
  diagram: ["流程图", "Diagram"],
  newFormName: [
    "新表单文件名（以 .json 结尾）：",
    "File name of the new form (ending in .json):",
  ],
  badFormName: [
    "文件名只能用字母、数字、下划线、点和短横线，并以 .json 结尾，且不能与已有文件重名。",
    "Use letters, digits, _ . - only, end with .json, and pick a name not used yet.",
  ],
  newFormTitle: ["新表单", "New form"],
  notFound: ["图中没有元素 {id}。", "There is no element {id} in the diagram."],
  unsavedLeave: ["有未保存的修改，确定离开？", "There are unsaved changes. Leave anyway?"],
  timerError: ["无法计算：{message}", "Cannot compute: {message}"],
  sampleInvalid: ["样例数据不是合法的 JSON：{message}", "Sample data is not valid JSON: {message}"],
  otherFiles: ["其他流程的文件（{n}）……", "Files of other processes ({n})…"],
  decisions: ["决策：", "Decisions:"],
  lintCount: ["实时检查：{errors} 个错误，{warnings} 个警告", "Live lint: {errors} errors, {warnings} warnings"],
};

export function msg(key, values = {}) {
  const pair = TEXTS[key];
  const text = pair ? pair[isEnglish() ? 1 : 0] : key;
  return text.replace(/{(\w+)}/g, (m, k) => (k in values ? values[k] : m));
}
