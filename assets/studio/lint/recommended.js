// bpmnlint's own rules that fit the engine, with their messages in Chinese. Rules reading the
// optional incoming/outgoing lists of flow nodes are not reused (hand-written files lack
// them): the pack has its own graph-based versions (no-disconnected, no-implicit-split,
// label-required, gateway-conditions).

import endEventRequired from 'bpmnlint/rules/end-event-required.js';
import eventSubProcessTypedStartEvent from 'bpmnlint/rules/event-sub-process-typed-start-event.js';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows.js';
import singleEventDefinition from 'bpmnlint/rules/single-event-definition.js';

import { describe, inExecutableScope, is } from './util.js';

const TRANSLATIONS = [
  [ /^Process is missing end event$/, (m, who) => `${who}没有结束事件。请添加一个结束事件，让流程明确地结束。` ],
  [ /^Sub process is missing end event$/, (m, who) => `${who}没有结束事件。请添加一个结束事件。` ],
  [ /^Start event is missing event definition$/, (m, who) => `事件子流程的${who}没有事件类型。请设为消息、定时器等开始事件。` ],
  [ /^Link event is missing link name$/, (m, who) => `${who}没有链接名称。请填写链接名称。` ],
  [ /^Link (catch|throw) event with link name <(.*)> missing in scope$/,
    (m, who) => `${who}的链接名称「${m[2]}」找不到对应的链接${m[1] === 'catch' ? '捕获' : '抛出'}事件。` ],
  [ /^Duplicate link catch event with link name <(.*)> in scope$/,
    (m, who) => `${who}：链接名称「${m[1]}」的捕获事件重复。` ],
  [ /^Link catch event with link name <(.*)> missing in scope$/,
    (m, who) => `${who}的链接名称「${m[1]}」找不到对应的链接捕获事件。` ],
  [ /^SequenceFlow is a duplicate$/, (m, who) => `${who}与另一条顺序流重复（起点和终点相同）。请删除多余的一条。` ],
  [ /^Duplicate outgoing sequence flows$/, (m, who) => `${who}有重复的出口顺序流。请删除多余的一条。` ],
  [ /^Duplicate incoming sequence flows$/, (m, who) => `${who}有重复的入口顺序流。请删除多余的一条。` ],
  [ /^Event has multiple event definitions$/, (m, who) => `${who}有多个事件定义。请只保留一个。` ]
];

function findById(root, id) {
  const seen = new Set();
  const stack = [ root ];
  while (stack.length) {
    const element = stack.pop();
    if (!element || typeof element !== 'object' || seen.has(element)) {
      continue;
    }
    seen.add(element);
    if (element.id === id && element.$type) {
      return element;
    }
    for (const key of [ 'rootElements', 'flowElements', 'laneSets', 'lanes', 'childLaneSet', 'eventDefinitions' ]) {
      const value = element[key];
      if (Array.isArray(value)) {
        stack.push(...value);
      } else if (value) {
        stack.push(value);
      }
    }
  }
  return null;
}

/**
 * Wrap a bpmnlint rule factory so its reports are in Chinese and name the element; reports on
 * elements for which `keep(element)` is false are dropped.
 */
export function translated(factory, keep = inExecutableScope) {
  return function(config) {
    const rule = factory(config);
    const original = rule.check;
    let root = null;
    const wrap = (fn) => fn && function(node, reporter) {
      if (!root || node.$type === 'bpmn:Definitions') {
        root = node;
      }
      const chinese = {
        report(id, message, path) {
          const element = findById(root, id);
          if (element && !keep(element)) {
            return undefined;
          }
          const who = element ? describe(element) : `元素（${id}）`;
          const found = TRANSLATIONS.find(([ pattern ]) => pattern.test(message));
          const text = found ? found[1](message.match(found[0]), who) : `${who}：${message}`;
          return reporter.report(id, text, path);
        }
      };
      return fn(node, chinese);
    };
    const check = typeof original === 'function'
      ? wrap(original)
      : { ...original, enter: wrap(original.enter), leave: wrap(original.leave) };
    if (check.enter === undefined) {
      delete check.enter;
    }
    if (check.leave === undefined) {
      delete check.leave;
    }
    return { ...rule, check };
  };
}

export const recommendedRules = {
  // sub-processes: `unsupported-element` reports a missing end event as an error
  'end-event-required': translated(endEventRequired, (el) => is(el, 'bpmn:Process') && el.isExecutable !== false),
  'event-sub-process-typed-start-event': translated(eventSubProcessTypedStartEvent),
  'no-duplicate-sequence-flows': translated(noDuplicateSequenceFlows),
  'single-event-definition': translated(singleEventDefinition)
};
