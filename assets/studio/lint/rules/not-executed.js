// What the engine will not run, as warnings (validation_support.report_scope): a process
// without isExecutable attribute (treated as executable), pools without a process here.

import { describe, is } from '../util.js';

export default function notExecuted() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const processes = (node.rootElements || []).filter((el) => is(el, 'bpmn:Process'));
    for (const process of processes) {
      if (process.isExecutable === undefined) {
        reporter.report(
          process.id,
          `${describe(process)}没有 isExecutable 属性，引擎按可执行流程处理并完整校验。` +
          '如果它只是说明性模型，请设为 isExecutable="false"。'
        );
      }
    }
    for (const collaboration of (node.rootElements || []).filter((el) => is(el, 'bpmn:Collaboration'))) {
      for (const participant of collaboration.participants || []) {
        const ref = participant.processRef;
        if (ref && processes.includes(ref)) {
          continue;
        }
        const why = ref ? `引用的流程 '${ref.id || ref}' 不在本文件中` : '没有流程（黑盒泳池）';
        reporter.report(
          participant.id,
          `${describe(participant)}${why}：引擎不执行它，发往它的消息流只是图示，引擎不会投递。`
        );
      }
    }
  }

  return { check };
}
