// The diagram holds a process the engine runs (validation_support.report_scope: a
// non-executable process cannot be deployed when nothing else in the draft runs).

import { describe, is, isExecutableProcess } from '../util.js';

export default function executableProcess() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const processes = (node.rootElements || []).filter((el) => is(el, 'bpmn:Process'));
    if (!processes.length || processes.some(isExecutableProcess)) {
      return;
    }
    for (const process of processes) {
      reporter.report(
        process.id,
        `${describe(process)}未设为可执行（isExecutable="false"），引擎不会执行它，它只是说明性模型：` +
        '可以作为草稿保存，但不能发布。要执行它，请设为可执行（isExecutable="true"）后重新校验。'
      );
    }
  }

  return { check };
}
