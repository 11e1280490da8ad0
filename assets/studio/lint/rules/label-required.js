// Names make the task list, the audit trail and the diagram readable (a warning).

import { describe, graphOf, inExecutableScope, is, isAny, isContainer } from '../util.js';

export default function labelRequired() {
  function check(node, reporter) {
    if (!inExecutableScope(node)) {
      return;
    }
    if (is(node, 'bpmn:Lane') && !(node.name || '').trim()) {
      reporter.report(node.id, `${describe(node)}没有名称。泳道名称应为角色，如 reviewer。`);
      return;
    }
    if (!isContainer(node)) {
      return;
    }
    const { nodes, flows, outgoing } = graphOf(node);
    for (const element of nodes) {
      if (isAny(element, [ 'bpmn:ParallelGateway', 'bpmn:EventBasedGateway', 'bpmn:SubProcess' ])) {
        continue;
      }
      if (is(element, 'bpmn:Gateway') && outgoing.get(element.id).length < 2) {
        continue; // joining gateways need no name
      }
      if (!(element.name || '').trim()) {
        reporter.report(element.id, `${describe(element)}没有名称。请填写名称，便于在待办、审计和流程图中识别。`);
      }
    }
    for (const flow of flows) {
      if (flow.conditionExpression && !(flow.name || '').trim()) {
        reporter.report(flow.id, `带条件的${describe(flow)}没有名称。请用名称说明条件，如“材料齐全”。`);
      }
    }
  }

  return { check };
}
