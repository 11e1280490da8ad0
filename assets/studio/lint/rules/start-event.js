// An executable process has a start event (parser: "No start event found"). Sub-processes
// (exactly one start event, an end event) are checked by `unsupported-element`.

import { describe, is, isExecutableProcess, msg } from '../util.js';

export default function startEvent(config) {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Process') || !isExecutableProcess(node)) {
      return;
    }
    if (!(node.flowElements || []).some((el) => is(el, 'bpmn:StartEvent'))) {
      const who = describe(node, config);
      reporter.report(node.id, msg(
        config,
        `${who}没有开始事件。请添加一个开始事件。`,
        `${who} has no start event. Add a start event.`
      ));
    }
  }

  return { check };
}
