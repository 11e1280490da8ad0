// Only start events and gateways may have several outgoing flows: the parser refuses the
// rest ("Multiple outgoing flows are not supported for tasks of type …").

import { describe, graphOf, isAny, inExecutableScope, isContainer } from '../util.js';

export default function noImplicitSplit() {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, outgoing } = graphOf(node);
    for (const source of nodes) {
      if (isAny(source, [ 'bpmn:StartEvent', 'bpmn:Gateway' ])) {
        continue;
      }
      if (outgoing.get(source.id).length > 1) {
        reporter.report(
          source.id,
          `${describe(source)}：隐式分支（活动或事件有多条出口顺序流）（${outgoing.get(source.id).length} 条出口顺序流）。` +
          '引擎只允许网关和开始事件有多条出口顺序流。请在后面加并行网关（全部执行）或排他网关（按条件选一条）。'
        );
      }
    }
  }

  return { check };
}
