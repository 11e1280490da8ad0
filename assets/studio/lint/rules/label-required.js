// Names make the task list, the audit trail and the diagram readable (a warning).

import { describe, graphOf, inExecutableScope, is, isAny, isContainer, msg } from '../util.js';

export default function labelRequired(config) {
  function check(node, reporter) {
    if (!inExecutableScope(node)) {
      return;
    }
    if (is(node, 'bpmn:Lane') && !(node.name || '').trim()) {
      const who = describe(node, config);
      reporter.report(node.id, msg(
        config,
        `${who}没有名称。泳道名称应为角色，如 reviewer。`,
        `${who} has no name. Name the lane after a role, e.g. reviewer.`
      ));
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
        const who = describe(element, config);
        reporter.report(element.id, msg(
          config,
          `${who}没有名称。请填写名称，便于在待办、审计和流程图中识别。`,
          `${who} has no name. Enter a name so it can be recognised in the inbox, the audit trail ` +
          'and the diagram.'
        ));
      }
    }
    for (const flow of flows) {
      if (flow.conditionExpression && !(flow.name || '').trim()) {
        const who = describe(flow, config);
        reporter.report(flow.id, msg(
          config,
          `带条件的${who}没有名称。请用名称说明条件，如“材料齐全”。`,
          `Conditional ${who} has no name. Use the name to say what the condition means, ` +
          'e.g. "Documents complete".'
        ));
      }
    }
  }

  return { check };
}
