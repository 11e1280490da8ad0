// The diagram holds a process the engine runs (validation_support.report_scope: a
// non-executable process cannot be deployed when nothing else in the draft runs).

import { describe, is, isExecutableProcess, msg } from '../util.js';

export default function executableProcess(config) {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const processes = (node.rootElements || []).filter((el) => is(el, 'bpmn:Process'));
    if (!processes.length || processes.some(isExecutableProcess)) {
      return;
    }
    for (const process of processes) {
      const who = describe(process, config);
      reporter.report(process.id, msg(
        config,
        `${who}未设为可执行（isExecutable="false"），引擎不会执行它，它只是说明性模型：` +
        '可以作为草稿保存，但不能发布。要执行它，请设为可执行（isExecutable="true"）后重新校验。',
        `${who} is not executable (isExecutable="false"): the engine will not run it, it is only a ` +
        'descriptive model. It can be kept as a draft but not deployed. Set isExecutable="true" and ' +
        'validate again to run it.'
      ));
    }
  }

  return { check };
}
