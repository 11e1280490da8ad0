// Conditions only where the engine evaluates them (validation_bpmn._check_outgoing):
// every outgoing flow of a splitting exclusive/inclusive gateway has a condition or is the
// default; no condition after a parallel gateway, a task or an event.

import {
  describe, graphOf, hasCondition, is, inExecutableScope, isContainer, isDefaultFlow, localName, msg
} from '../util.js';

export default function gatewayConditions(config) {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, outgoing } = graphOf(node);
    for (const source of nodes) {
      const flows = outgoing.get(source.id);
      const kind = localName(source);
      const from = describe(source, config);
      for (const flow of flows) {
        const conditioned = hasCondition(flow);
        const who = describe(flow, config);
        if (kind === 'exclusiveGateway' || kind === 'inclusiveGateway') {
          if (flows.length > 1 && !conditioned && !isDefaultFlow(source, flow)) {
            reporter.report(flow.id, msg(
              config,
              `${from}的出口${who}既没有条件也不是默认流。请添加条件，或设为默认流。`,
              `Outgoing ${who} of ${from} has no condition and is not the default flow. ` +
              'Add a condition or make it the default.'
            ));
          }
        } else if (conditioned && is(source, 'bpmn:ParallelGateway')) {
          reporter.report(flow.id, msg(
            config,
            `${from}的出口${who}带有条件，但并行网关忽略条件、所有分支都会执行。` +
            '请删除条件，或改用排他/包容网关。',
            `Outgoing ${who} of ${from} has a condition, but a parallel gateway ignores conditions ` +
            '(all branches run). Remove it or use an exclusive/inclusive gateway.'
          ));
        } else if (conditioned) {
          reporter.report(flow.id, msg(
            config,
            `${who}从${from}出发并带有条件，但引擎只在排他/包容网关判断条件，` +
            '这里的条件会被忽略。请在前面加排他网关。',
            `${who} leaves ${from} with a condition, but only exclusive/inclusive gateways evaluate ` +
            'conditions; it is ignored. Add an exclusive gateway to branch there.'
          ));
        }
      }
    }
  }

  return { check };
}
