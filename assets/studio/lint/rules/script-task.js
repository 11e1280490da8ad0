// A script task has a script (validation_bpmn._check_script_task).

import { describe, inExecutableScope, is } from '../util.js';

export default function scriptTask() {
  function check(node, reporter) {
    if (is(node, 'bpmn:ScriptTask') && inExecutableScope(node) && !(node.script || '').trim()) {
      reporter.report(node.id, `${describe(node)}没有脚本内容。请填写 Python 脚本。`);
    }
  }

  return { check };
}
