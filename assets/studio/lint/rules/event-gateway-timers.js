// At most one timer behind an event-based gateway (validation_bpmn._check_event_gateway).

import { describe, graphOf, is, inExecutableScope, isContainer } from '../util.js';

export default function eventGatewayTimers() {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, outgoing } = graphOf(node);
    for (const gateway of nodes.filter((n) => is(n, 'bpmn:EventBasedGateway'))) {
      const timers = outgoing.get(gateway.id)
        .map((flow) => flow.targetRef)
        .filter((target) => is(target, 'bpmn:IntermediateCatchEvent') &&
          (target.eventDefinitions || []).some((d) => is(d, 'bpmn:TimerEventDefinition')))
        .map((target) => target.id);
      if (timers.length > 1) {
        reporter.report(
          gateway.id,
          `${describe(gateway)}后面有 ${timers.length} 个定时器事件（${timers.join('、')}），它们会` +
          '共用同一个到期时间。一个事件网关后只能有一个定时器，请合并或改用边界定时器。'
        );
      }
    }
  }

  return { check };
}
