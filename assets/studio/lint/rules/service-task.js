// A service task names a registered handler with spiffworkflow:serviceTaskOperator, and each
// parameter has an id and a type (validation_bpmn._check_service_task).

import {
  attrOf, describe, inExecutableScope, descendants, extensions, is, isSpiff, joinZh, optionList
} from '../util.js';

export default function serviceTask(config) {
  const handlers = optionList(config, 'handlers');

  function check(node, reporter) {
    if (!is(node, 'bpmn:ServiceTask') || !inExecutableScope(node)) {
      return;
    }
    const who = describe(node);
    const operators = extensions(node, 'serviceTaskOperator');
    const name = operators.length ? attrOf(operators[0], 'id') : undefined;
    if (!operators.length) {
      reporter.report(
        node.id,
        `${who}没有指定服务（spiffworkflow:serviceTaskOperator）。请从已注册的服务中选择一个。`
      );
    } else if (handlers && !handlers.includes(name)) {
      reporter.report(
        node.id,
        `${who}使用了未注册的服务 '${name}'。可用的服务：${joinZh(handlers)}。`
      );
    }
    const parameters = descendants(node.extensionElements)
      .filter((el) => isSpiff(el, 'parameter') && attrOf(el, 'value') !== undefined);
    if (parameters.some((el) => attrOf(el, 'id') === undefined || attrOf(el, 'type') === undefined)) {
      reporter.report(node.id, `${who}的服务参数缺少 id 或 type 属性。`);
    }
  }

  return { check };
}
