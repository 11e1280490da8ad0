// A script task has a script (validation_bpmn._check_script_task).

import { describe, inExecutableScope, is, msg } from '../util.js';

export default function scriptTask(config) {
  function check(node, reporter) {
    if (is(node, 'bpmn:ScriptTask') && inExecutableScope(node) && !(node.script || '').trim()) {
      const who = describe(node, config);
      reporter.report(node.id, msg(
        config,
        `${who}没有脚本内容。请填写 Python 脚本。`,
        `${who} has no script. Enter a Python script.`
      ));
    }
  }

  return { check };
}
