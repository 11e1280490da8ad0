// At most one timer behind an event-based gateway (validation_bpmn._check_event_gateway).

import { describe, graphOf, is, inExecutableScope, isContainer, joinList, msg } from '../util.js';

export default function eventGatewayTimers(config) {
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
        const who = describe(gateway, config);
        const ids = joinList(timers, config);
        reporter.report(gateway.id, msg(
          config,
          `${who}后面有 ${timers.length} 个定时器事件（${ids}），它们会` +
          '共用同一个到期时间。一个事件网关后只能有一个定时器，请合并或改用边界定时器。',
          `${who} is followed by ${timers.length} timer events (${ids}), which would share one due ` +
          'time. Keep one timer per event-based gateway: merge them or use a boundary timer instead.'
        ));
      }
    }
  }

  return { check };
}
