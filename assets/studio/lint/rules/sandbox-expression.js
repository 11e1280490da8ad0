// Expressions the sandbox obviously refuses: names or attributes starting with "_", import,
// exec/eval, FEEL/JUEL `${…}`, empty expressions. A cheap look at every site the server
// compiles (validation_bpmn.EXPRESSIONS, script tasks, timers, service parameters); the server
// compiles them for real with RestrictedPython on validate and deploy.

import { ISO_LITERAL, sandboxMessage, sandboxProblem } from '../expressions.js';
import { attrOf, childrenOf, describe, inExecutableScope, is, isSpiff, pick, textOf } from '../util.js';
import { walkAll } from '../walk.js';

// Labels: [Chinese, English], as in validation_bpmn.EXPRESSIONS.
const TYPED = [
  [ 'bpmn:SequenceFlow', 'conditionExpression', 'eval', [ '条件表达式', 'condition' ] ],
  [ 'bpmn:ConditionalEventDefinition', 'condition', 'eval', [ '条件事件表达式', 'condition' ] ],
  [ 'bpmn:MultiInstanceLoopCharacteristics', 'loopCardinality', 'eval',
    [ '多实例数量（loopCardinality）', 'loopCardinality' ] ],
  [ 'bpmn:MultiInstanceLoopCharacteristics', 'completionCondition', 'eval',
    [ '多实例完成条件', 'completionCondition' ] ],
  [ 'bpmn:StandardLoopCharacteristics', 'loopCondition', 'eval', [ '循环条件（loopCondition）', 'loopCondition' ] ],
  [ 'bpmn:CorrelationPropertyRetrievalExpression', 'messagePath', 'eval', [ '关联表达式', 'correlation' ] ]
];
const SPIFF = [
  [ 'preScript', 'exec', [ '前置脚本（preScript）', 'preScript' ] ],
  [ 'postScript', 'exec', [ '后置脚本（postScript）', 'postScript' ] ],
  [ 'messagePayload', 'eval', [ '消息内容（messagePayload）', 'messagePayload' ] ],
  [ 'payloadExpression', 'eval', [ '事件内容（payloadExpression）', 'payload' ] ]
];
const TIMERS = [ 'timeDuration', 'timeDate', 'timeCycle' ];

export default function sandboxExpression(config) {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const report = (owner, source, mode, [ zh, en ]) => {
      const problem = sandboxProblem(source, mode);
      if (problem && owner && owner.id && inExecutableScope(owner)) {
        const label = pick(config, zh, en);
        reporter.report(owner.id, sandboxMessage(config, describe(owner, config), label, problem));
      }
    };
    walkAll(node, (element, _parent, owner) => {
      for (const [ type, property, mode, label ] of TYPED) {
        if (is(element, type) && element[property]) {
          const text = textOf(element[property]);
          if (text !== undefined && text !== null) {
            report(owner, text, mode, label);
          }
        }
      }
      if (is(element, 'bpmn:ScriptTask') && (element.script || '').trim()) {
        report(owner, element.script, 'exec', [ '脚本', 'script' ]);
      }
      if (is(element, 'bpmn:TimerEventDefinition')) {
        for (const kind of TIMERS.filter((k) => element[k])) {
          const text = textOf(element[kind]) || '';
          if (text.trim() && !ISO_LITERAL.test(text.trim())) { // those are the timer rule's
            report(owner, text, 'eval', [ `定时器（${kind}）`, `timer (${kind})` ]);
          }
        }
      }
      for (const [ name, mode, label ] of SPIFF) {
        const text = isSpiff(element, name) ? textOf(element) : undefined;
        if (text !== undefined && text !== null) {
          report(owner, text, mode, label);
        }
      }
      if (isSpiff(element, 'processVariableCorrelation')) {
        // a child element (generic) or a String property (typed descriptor)
        const child = childrenOf(element).find((c) => isSpiff(c, 'expression'));
        const text = typeof element.expression === 'string' ? element.expression : textOf(child);
        if (text !== undefined && text !== null) {
          report(owner, text, 'eval', [ '流程变量关联表达式', 'processVariableCorrelation' ]);
        }
      }
      if (isSpiff(element, 'parameter') && attrOf(element, 'value') !== undefined) {
        const id = attrOf(element, 'id');
        report(owner, attrOf(element, 'value'), 'eval', [ `服务参数 ${id}`, `parameter ${id}` ]);
      }
    });
  }

  return { check };
}
