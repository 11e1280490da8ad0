// An executable process has a start event (parser: "No start event found"). Sub-processes
// (exactly one start event, an end event) are checked by `unsupported-element`.

import { describe, is, isExecutableProcess } from '../util.js';

export default function startEvent() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Process') || !isExecutableProcess(node)) {
      return;
    }
    if (!(node.flowElements || []).some((el) => is(el, 'bpmn:StartEvent'))) {
      reporter.report(node.id, `${describe(node)}没有开始事件。请添加一个开始事件。`);
    }
  }

  return { check };
}
