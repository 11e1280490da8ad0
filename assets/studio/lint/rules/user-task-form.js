// A user task names its form (and optional UI schema) with a .json file of the draft
// (validation_bpmn._check_form). Without `formFiles` only a missing property is reported.

import { describe, inExecutableScope, isAny, joinZh, optionList, spiffProperties } from '../util.js';

const FORM = 'formJsonSchemaFilename';
const UI = 'formUiSchemaFilename';

export default function userTaskForm(config) {
  const files = optionList(config, 'formFiles');

  function check(node, reporter) {
    if (!isAny(node, [ 'bpmn:UserTask', 'bpmn:ManualTask' ]) || !inExecutableScope(node)) {
      return;
    }
    const properties = spiffProperties(node);
    const uploaded = files ? joinZh(files.filter((name) => name.endsWith('.json'))) : null;
    for (const property of [ FORM, UI ]) {
      const value = properties[property];
      if ((value === undefined && property === UI) || (value && !files)) {
        continue;
      }
      if (value && files.includes(value) && value.includes('.json')) {
        continue;
      }
      const problem = value
        ? `的表单文件 '${value}' 不在草稿文件中`
        : `缺少表单属性 ${property}`;
      const known = uploaded === null ? '' : `（已有：${uploaded}）`;
      reporter.report(
        node.id,
        `${describe(node)}${problem}。请把 spiffworkflow 属性 ${property} 设为草稿中的 .json 表单文件名${known}。`
      );
    }
  }

  return { check };
}
