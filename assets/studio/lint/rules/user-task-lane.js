// A user task must sit in a lane named after a CreditFlow role (validation_bpmn._check_lane).

import { DEFAULT_ROLES, describe, inExecutableScope, is, isAny, joinList, msg, optionList } from '../util.js';
import { flowElementsDeep, laneMap } from '../walk.js';

export default function userTaskLane(config) {
  const roles = optionList(config, 'roles') || [ ...DEFAULT_ROLES ].sort();

  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const lanes = laneMap(node);
    for (const { element, ancestors } of flowElementsDeep(node)) {
      // both user and manual tasks wait in the inbox of a role
      if (!isAny(element, [ 'bpmn:UserTask', 'bpmn:ManualTask' ]) || !inExecutableScope(element)) {
        continue;
      }
      // the parser resolves the outermost sub-process's lane first, then the task's own
      const chain = [ ...ancestors.filter((a) => lanes.has(a.id)), element ];
      const named = chain.find((el) => lanes.get(el.id));
      const lane = named ? lanes.get(named.id) : null;
      if (lane !== null && roles.includes(lane)) {
        continue;
      }
      const inLane = lane !== null || lanes.has(element.id);
      const [ why, whyEn ] = lane !== null ? [ `所在泳道「${lane}」不是 CreditFlow 角色`, `is in lane '${lane}', not a role` ]
        : inLane ? [ '所在泳道没有名称', 'is in a lane without a name' ] : [ '不在任何泳道中', 'is not in any lane' ];
      const who = describe(element, config);
      const allowed = joinList(roles, config);
      reporter.report(element.id, msg(
        config,
        `${who}${why}。请把它放进以角色命名的泳道，允许的泳道名：${allowed}。`,
        `${who} ${whyEn}. Put it in a lane named after a role: ${allowed}.`
      ));
    }
  }

  return { check };
}
