// A user task names its form (and optional UI schema) with a .json file of the draft
// (validation_bpmn._check_form). Without `formFiles` only a missing property is reported.

import { describe, inExecutableScope, isAny, joinList, msg, optionList, spiffProperties } from '../util.js';

const FORM = 'formJsonSchemaFilename';
const UI = 'formUiSchemaFilename';

export default function userTaskForm(config) {
  const files = optionList(config, 'formFiles');

  function check(node, reporter) {
    if (!isAny(node, [ 'bpmn:UserTask', 'bpmn:ManualTask' ]) || !inExecutableScope(node)) {
      return;
    }
    const properties = spiffProperties(node);
    const uploaded = files ? joinList(files.filter((name) => name.endsWith('.json')), config) : null;
    const who = describe(node, config);
    for (const property of [ FORM, UI ]) {
      const value = properties[property];
      if ((value === undefined && property === UI) || (value && !files)) {
        continue;
      }
      if (value && files.includes(value) && value.includes('.json')) {
        continue;
      }
      const problem = value
        ? [ `的表单文件 '${value}' 不在草稿文件中`, ` names form file '${value}', which is not in the draft's files` ]
        : [ `缺少表单属性 ${property}`, ` lacks the form property ${property}` ];
      const known = uploaded === null ? [ '', '' ] : [ `（已有：${uploaded}）`, ` (present: ${uploaded})` ];
      reporter.report(node.id, msg(
        config,
        `${who}${problem[0]}。请把 spiffworkflow 属性 ${property} 设为草稿中的 .json 表单文件名${known[0]}。`,
        `${who}${problem[1]}. Set the spiffworkflow property ${property} to a .json form file of the ` +
        `draft${known[1]}.`
      ));
    }
  }

  return { check };
}
