// Elements without any sequence flow are never reached (a warning: the engine accepts them).

import { describe, graphOf, is, isAny, inExecutableScope, isContainer, msg } from '../util.js';

export default function noDisconnected(config) {
  function check(node, reporter) {
    if (!isContainer(node) || is(node, 'bpmn:AdHocSubProcess') || !inExecutableScope(node)) {
      return;
    }
    const { nodes, incoming, outgoing } = graphOf(node);
    for (const element of nodes) {
      if (!isAny(element, [ 'bpmn:Task', 'bpmn:Gateway', 'bpmn:SubProcess', 'bpmn:Event', 'bpmn:CallActivity' ]) ||
          element.triggeredByEvent || element.isForCompensation) {
        continue;
      }
      const compensation = is(element, 'bpmn:BoundaryEvent') &&
        (element.eventDefinitions || []).some((d) => is(d, 'bpmn:CompensateEventDefinition'));
      if (compensation) {
        continue;
      }
      if (!incoming.get(element.id).length && !outgoing.get(element.id).length) {
        const who = describe(element, config);
        reporter.report(element.id, msg(
          config,
          `${who}没有连接任何顺序流，流程永远不会执行到它。请连接或删除它。`,
          `${who} is not connected to any sequence flow, so the process never reaches it. ` +
          'Connect or delete it.'
        ));
      }
    }
  }

  return { check };
}
