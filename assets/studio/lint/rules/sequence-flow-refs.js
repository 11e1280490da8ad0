// A sequence flow connects two elements of the same process or sub-process
// (validation_bpmn._lint_flows and the parser's "When looking for a task spec…").

import { describe, graphOf, is, inExecutableScope, isContainer } from '../util.js';

export default function sequenceFlowRefs() {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { flows, ids } = graphOf(node);
    for (const flow of flows) {
      for (const [ ref, what ] of [ [ flow.sourceRef, '起点' ], [ flow.targetRef, '终点' ] ]) {
        if (!ref || !ref.id) {
          reporter.report(
            flow.id,
            `${describe(flow)}的${what}指向不存在的元素。请在建模器中重新连接或删除它。`
          );
        } else if (!ids.has(ref.id) && !is(ref, 'bpmn:SequenceFlow')) {
          reporter.report(
            flow.id,
            `${describe(flow)}的${what} ${ref.id} 不在同一个流程或子流程中。请在建模器中重新连接或删除它。`
          );
        }
      }
    }
  }

  return { check };
}
