// Only start events and gateways may have several outgoing flows: the parser refuses the
// rest ("Multiple outgoing flows are not supported for tasks of type …").

import { describe, graphOf, isAny, inExecutableScope, isContainer, msg } from '../util.js';

export default function noImplicitSplit(config) {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, outgoing } = graphOf(node);
    for (const source of nodes) {
      if (isAny(source, [ 'bpmn:StartEvent', 'bpmn:Gateway' ])) {
        continue;
      }
      const count = outgoing.get(source.id).length;
      if (count > 1) {
        const who = describe(source, config);
        reporter.report(source.id, msg(
          config,
          `${who}：隐式分支（活动或事件有多条出口顺序流）（${count} 条出口顺序流）。` +
          '引擎只允许网关和开始事件有多条出口顺序流。请在后面加并行网关（全部执行）或排他网关（按条件选一条）。',
          `${who}: implicit split (${count} outgoing flows). Only gateways and start events may have ` +
          'several outgoing sequence flows. Add a parallel gateway (all branches) or an exclusive ' +
          'gateway (one branch) after it.'
        ));
      }
    }
  }

  return { check };
}
