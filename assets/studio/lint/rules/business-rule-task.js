// A business rule task names a decision of the draft's DMN files with
// spiffworkflow:calledDecisionId (the parser's "No DMN Diagram available", rephrased).

import { describe, inExecutableScope, extensions, is, joinList, msg, optionList, textOf } from '../util.js';

export default function businessRuleTask(config) {
  const decisions = optionList(config, 'decisionIds');

  function check(node, reporter) {
    if (!is(node, 'bpmn:BusinessRuleTask') || !inExecutableScope(node)) {
      return;
    }
    const who = describe(node, config);
    const found = extensions(node, 'calledDecisionId');
    const decision = found.length ? textOf(found[0]) : undefined;
    const known = decisions ? `：${joinList(decisions, config)}` : '';
    const knownEn = decisions ? `one of: ${joinList(decisions, config)}`
      : 'the id of a decision in the draft\'s DMN files';
    if (!decision) {
      reporter.report(node.id, msg(
        config,
        `${who}没有指定决策（spiffworkflow:calledDecisionId）。请填写草稿中 DMN 的决策 id${known}。`,
        `${who} has no spiffworkflow:calledDecisionId. Set it to ${knownEn}.`
      ));
    } else if (decisions && !decisions.includes(decision)) {
      reporter.report(node.id, msg(
        config,
        `${who}引用的决策 '${decision}' 不存在（spiffworkflow:calledDecisionId）。` +
        `请填写草稿中 DMN 的决策 id${known}。`,
        `${who} calls decision '${decision}', which is not in any DMN file of the draft. ` +
        `Set spiffworkflow:calledDecisionId to ${knownEn}.`
      ));
    }
  }

  return { check };
}
