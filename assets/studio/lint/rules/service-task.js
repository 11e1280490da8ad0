// A service task names a registered handler with spiffworkflow:serviceTaskOperator, and each
// parameter has an id and a type (validation_bpmn._check_service_task).

import {
  attrOf, describe, inExecutableScope, descendants, extensions, is, isSpiff, joinList, msg, optionList
} from '../util.js';

export default function serviceTask(config) {
  const handlers = optionList(config, 'handlers');

  function check(node, reporter) {
    if (!is(node, 'bpmn:ServiceTask') || !inExecutableScope(node)) {
      return;
    }
    const who = describe(node, config);
    const operators = extensions(node, 'serviceTaskOperator');
    const name = operators.length ? attrOf(operators[0], 'id') : undefined;
    if (!operators.length) {
      reporter.report(node.id, msg(
        config,
        `${who}没有指定服务（spiffworkflow:serviceTaskOperator）。请从已注册的服务中选择一个。`,
        `${who} has no spiffworkflow:serviceTaskOperator. Choose one of the registered services.`
      ));
    } else if (handlers && !handlers.includes(name)) {
      const known = joinList(handlers, config);
      reporter.report(node.id, msg(
        config,
        `${who}使用了未注册的服务 '${name}'。可用的服务：${known}。`,
        `${who} uses unknown service '${name}'. Available: ${known}.`
      ));
    }
    const parameters = descendants(node.extensionElements)
      .filter((el) => isSpiff(el, 'parameter') && attrOf(el, 'value') !== undefined);
    if (parameters.some((el) => attrOf(el, 'id') === undefined || attrOf(el, 'type') === undefined)) {
      reporter.report(node.id, msg(
        config,
        `${who}的服务参数缺少 id 或 type 属性。`,
        `A service parameter of ${who} lacks its id or type attribute.`
      ));
    }
  }

  return { check };
}
