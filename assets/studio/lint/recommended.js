// bpmnlint's own rules that fit the engine, with their messages in Chinese or English. Rules reading the
// optional incoming/outgoing lists of flow nodes are not reused (hand-written files lack
// them): the pack has its own graph-based versions (no-disconnected, no-implicit-split,
// label-required, gateway-conditions).

import endEventRequired from 'bpmnlint/rules/end-event-required.js';
import eventSubProcessTypedStartEvent from 'bpmnlint/rules/event-sub-process-typed-start-event.js';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows.js';
import singleEventDefinition from 'bpmnlint/rules/single-event-definition.js';

import { describe, inExecutableScope, is, msg } from './util.js';

// bpmnlint's message -> (match, who, config) -> our message, in Chinese or English.
const TRANSLATIONS = [
  [ /^Process is missing end event$/, (m, who, c) => msg(c,
    `${who}没有结束事件。请添加一个结束事件，让流程明确地结束。`,
    `${who} has no end event. Add an end event so the process ends explicitly.`) ],
  [ /^Sub process is missing end event$/, (m, who, c) => msg(c,
    `${who}没有结束事件。请添加一个结束事件。`,
    `${who} has no end event. Add an end event.`) ],
  [ /^Start event is missing event definition$/, (m, who, c) => msg(c,
    `事件子流程的${who}没有事件类型。请设为消息、定时器等开始事件。`,
    `${who} of an event sub-process has no event type. Make it a message, timer or other typed start event.`) ],
  [ /^Link event is missing link name$/, (m, who, c) => msg(c,
    `${who}没有链接名称。请填写链接名称。`,
    `${who} has no link name. Enter a link name.`) ],
  [ /^Link (catch|throw) event with link name <(.*)> missing in scope$/, (m, who, c) => msg(c,
    `${who}的链接名称「${m[2]}」找不到对应的链接${m[1] === 'catch' ? '捕获' : '抛出'}事件。`,
    `No link ${m[1]} event matches the link name '${m[2]}' of ${who}. Add it or fix the link name.`) ],
  [ /^Duplicate link catch event with link name <(.*)> in scope$/, (m, who, c) => msg(c,
    `${who}：链接名称「${m[1]}」的捕获事件重复。`,
    `${who}: there are several link catch events with the link name '${m[1]}'. Keep only one.`) ],
  [ /^Link catch event with link name <(.*)> missing in scope$/, (m, who, c) => msg(c,
    `${who}的链接名称「${m[1]}」找不到对应的链接捕获事件。`,
    `No link catch event matches the link name '${m[1]}' of ${who}. Add it or fix the link name.`) ],
  [ /^SequenceFlow is a duplicate$/, (m, who, c) => msg(c,
    `${who}与另一条顺序流重复（起点和终点相同）。请删除多余的一条。`,
    `${who} duplicates another sequence flow (same source and target). Delete the extra one.`) ],
  [ /^Duplicate outgoing sequence flows$/, (m, who, c) => msg(c,
    `${who}有重复的出口顺序流。请删除多余的一条。`,
    `${who} has duplicate outgoing sequence flows. Delete the extra one.`) ],
  [ /^Duplicate incoming sequence flows$/, (m, who, c) => msg(c,
    `${who}有重复的入口顺序流。请删除多余的一条。`,
    `${who} has duplicate incoming sequence flows. Delete the extra one.`) ],
  [ /^Event has multiple event definitions$/, (m, who, c) => msg(c,
    `${who}有多个事件定义。请只保留一个。`,
    `${who} has several event definitions. Keep only one.`) ]
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
 * Wrap a bpmnlint rule factory so its reports are in the rule's language (`locale` option)
 * and name the element; reports on elements for which `keep(element)` is false are dropped.
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
      const ours = {
        report(id, message, path) {
          const element = findById(root, id);
          if (element && !keep(element)) {
            return undefined;
          }
          const who = element ? describe(element, config) : msg(config, `元素（${id}）`, `element (${id})`);
          const found = TRANSLATIONS.find(([ pattern ]) => pattern.test(message));
          const text = found ? found[1](message.match(found[0]), who, config)
            : msg(config, `${who}：${message}`, `${who}: ${message}`);
          return reporter.report(id, text, path);
        }
      };
      return fn(node, ours);
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
