// Timers are quoted Python expressions with a valid ISO 8601 value (validation_bpmn._check_timer).
// `timer` reports what the server refuses; `timer-offset` (a warning there too) a date
// without UTC offset.

import {
  ISO_LITERAL, TIMER_EXAMPLES, TIMER_EXAMPLES_EN, naiveDatetime, pythonConstant, sandboxProblem, timerValueOk
} from '../expressions.js';
import { describe, inExecutableScope, is, msg, textOf } from '../util.js';
import { isOwner } from '../walk.js';

const KINDS = [ 'timeDuration', 'timeDate', 'timeCycle' ];

/** Each timer expression of a timer event definition: { kind, text }. */
export function timerExpressions(definition) {
  return KINDS
    .filter((kind) => definition[kind])
    .map((kind) => ({ kind, text: textOf(definition[kind]) || '' }));
}

function owningEvent(definition) {
  let node = definition.$parent;
  while (node && !isOwner(node)) {
    node = node.$parent;
  }
  return node;
}

function timerChecks(onlyWarnings) {
  return function factory(config) {
    function check(node, reporter) {
      if (!is(node, 'bpmn:TimerEventDefinition')) {
        return;
      }
      const event = owningEvent(node);
      if (!event || !inExecutableScope(event)) {
        return;
      }
      const who = describe(event, config);
      const timers = timerExpressions(node);
      if (!timers.length && !onlyWarnings) {
        reporter.report(event.id, msg(
          config,
          `${who}的定时器没有设置时间。请选择类型（时长 timeDuration、日期 timeDate 或周期 timeCycle）` +
          '并填写带引号的表达式，如 "P5D"。',
          `The timer of ${who} has no time. Choose its type (duration timeDuration, date timeDate or ` +
          'cycle timeCycle) and enter a quoted expression like "P5D".'
        ));
      }
      for (const { kind, text } of timers) {
        const literal = text.trim();
        if (!literal) {
          if (!onlyWarnings) {
            reporter.report(event.id, msg(
              config,
              `${who}的定时器（${kind}）为空。请填写带引号的表达式，如 "P5D"。`,
              `The timer (${kind}) of ${who} is empty. Enter a quoted expression like "P5D".`
            ));
          }
          continue;
        }
        if (ISO_LITERAL.test(literal)) {
          if (!onlyWarnings) {
            reporter.report(event.id, msg(
              config,
              `${who}的定时器 ${literal} 没有加引号：定时器表达式是 Python 表达式，` +
              `请加引号，如 "P5D"（这里写成 "${literal}"）。`,
              `The timer ${literal} of ${who} is not quoted. Timer expressions are Python expressions: ` +
              `write "${literal}".`
            ));
          }
          continue;
        }
        if (sandboxProblem(text, 'eval')) {
          continue; // reported by sandbox-expression
        }
        const constant = pythonConstant(literal);
        if (!constant) {
          continue; // a variable or an f-string: only known at run time
        }
        const { value } = constant;
        if (!timerValueOk(kind, value)) {
          if (!onlyWarnings) {
            const shown = typeof value === 'string' ? `'${value}'` : value.notString;
            reporter.report(event.id, msg(
              config,
              `${who}的定时器值 ${shown} 不是有效的 ISO 8601 ${kind}。示例：${TIMER_EXAMPLES[kind]}` +
              '（T 之后不能用 D，如 PT1D 无效）。',
              `The timer value ${shown} of ${who} is not a valid ISO 8601 ${kind}; examples: ` +
              `${TIMER_EXAMPLES_EN[kind]} (no D after T: PT1D is invalid).`
            ));
          }
        } else if (onlyWarnings && kind !== 'timeDuration' && naiveDatetime(value)) {
          reporter.report(event.id, msg(
            config,
            `${who}的时间 '${value}' 没有时区，将使用服务器时区。请加上 +08:00 或 Z。`,
            `The time '${value}' of ${who} has no UTC offset, so the server's timezone is used. ` +
            'Add +08:00 or Z.'
          ));
        }
      }
    }

    return { check };
  };
}

export const timer = timerChecks(false);
export const timerOffset = timerChecks(true);
export default timer;
