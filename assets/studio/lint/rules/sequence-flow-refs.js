// A sequence flow connects two elements of the same process or sub-process
// (validation_bpmn._lint_flows and the parser's "When looking for a task spec…").

import { describe, graphOf, is, inExecutableScope, isContainer, msg } from '../util.js';

export default function sequenceFlowRefs(config) {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { flows, ids } = graphOf(node);
    for (const flow of flows) {
      const who = describe(flow, config);
      const ends = [ [ flow.sourceRef, '起点', 'source' ], [ flow.targetRef, '终点', 'target' ] ];
      for (const [ ref, what, whatEn ] of ends) {
        if (!ref || !ref.id) {
          reporter.report(flow.id, msg(
            config,
            `${who}的${what}指向不存在的元素。请在建模器中重新连接或删除它。`,
            `The ${whatEn} of ${who} points to a missing element. Reconnect it in the modeler or delete it.`
          ));
        } else if (!ids.has(ref.id) && !is(ref, 'bpmn:SequenceFlow')) {
          reporter.report(flow.id, msg(
            config,
            `${who}的${what} ${ref.id} 不在同一个流程或子流程中。请在建模器中重新连接或删除它。`,
            `The ${whatEn} ${ref.id} of ${who} is not in the same process or sub-process. ` +
            'Reconnect it in the modeler or delete it.'
          ));
        }
      }
    }
  }

  return { check };
}
