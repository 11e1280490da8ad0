// A business rule task names a decision of the draft's DMN files with
// spiffworkflow:calledDecisionId (the parser's "No DMN Diagram available", rephrased).

import { describe, inExecutableScope, extensions, is, joinZh, optionList, textOf } from '../util.js';

export default function businessRuleTask(config) {
  const decisions = optionList(config, 'decisionIds');

  function check(node, reporter) {
    if (!is(node, 'bpmn:BusinessRuleTask') || !inExecutableScope(node)) {
      return;
    }
    const found = extensions(node, 'calledDecisionId');
    const decision = found.length ? textOf(found[0]) : undefined;
    const known = decisions ? `：${joinZh(decisions)}` : '';
    if (!decision) {
      reporter.report(
        node.id,
        `${describe(node)}没有指定决策（spiffworkflow:calledDecisionId）。请填写草稿中 DMN 的决策 id${known}。`
      );
    } else if (decisions && !decisions.includes(decision)) {
      reporter.report(
        node.id,
        `${describe(node)}引用的决策 '${decision}' 不存在（spiffworkflow:calledDecisionId）。` +
        `请填写草稿中 DMN 的决策 id${known}。`
      );
    }
  }

  return { check };
}
