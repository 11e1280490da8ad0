// Conditions only where the engine evaluates them (validation_bpmn._check_outgoing):
// every outgoing flow of a splitting exclusive/inclusive gateway has a condition or is the
// default; no condition after a parallel gateway, a task or an event.

import { describe, graphOf, hasCondition, is, inExecutableScope, isContainer, isDefaultFlow, localName } from '../util.js';

export default function gatewayConditions() {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, outgoing } = graphOf(node);
    for (const source of nodes) {
      const flows = outgoing.get(source.id);
      const kind = localName(source);
      for (const flow of flows) {
        const conditioned = hasCondition(flow);
        if (kind === 'exclusiveGateway' || kind === 'inclusiveGateway') {
          if (flows.length > 1 && !conditioned && !isDefaultFlow(source, flow)) {
            reporter.report(
              flow.id,
              `${describe(source)}的出口${describe(flow)}既没有条件也不是默认流。请添加条件，或设为默认流。`
            );
          }
        } else if (conditioned && is(source, 'bpmn:ParallelGateway')) {
          reporter.report(
            flow.id,
            `${describe(source)}的出口${describe(flow)}带有条件，但并行网关忽略条件、所有分支都会执行。` +
            '请删除条件，或改用排他/包容网关。'
          );
        } else if (conditioned) {
          reporter.report(
            flow.id,
            `${describe(flow)}从${describe(source)}出发并带有条件，但引擎只在排他/包容网关判断条件，` +
            '这里的条件会被忽略。请在前面加排他网关。'
          );
        }
      }
    }
  }

  return { check };
}
