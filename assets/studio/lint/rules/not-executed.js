// What the engine will not run, as warnings (validation_support.report_scope): a process
// without isExecutable attribute (treated as executable), pools without a process here.

import { describe, is, msg, pick } from '../util.js';

export default function notExecuted(config) {
  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const processes = (node.rootElements || []).filter((el) => is(el, 'bpmn:Process'));
    for (const process of processes) {
      if (process.isExecutable === undefined) {
        const who = describe(process, config);
        reporter.report(process.id, msg(
          config,
          `${who}没有 isExecutable 属性，引擎按可执行流程处理并完整校验。` +
          '如果它只是说明性模型，请设为 isExecutable="false"。',
          `${who} has no isExecutable attribute, so the engine treats it as executable and checks ` +
          'it fully. If it is only descriptive, set isExecutable="false".'
        ));
      }
    }
    for (const collaboration of (node.rootElements || []).filter((el) => is(el, 'bpmn:Collaboration'))) {
      for (const participant of collaboration.participants || []) {
        const ref = participant.processRef;
        if (ref && processes.includes(ref)) {
          continue;
        }
        const who = describe(participant, config);
        const why = ref ? pick(
          config,
          `引用的流程 '${ref.id || ref}' 不在本文件中`,
          `references process '${ref.id || ref}', which is not in this file`
        ) : pick(config, '没有流程（黑盒泳池）', 'has no process (a black-box pool)');
        reporter.report(participant.id, msg(
          config,
          `${who}${why}：引擎不执行它，发往它的消息流只是图示，引擎不会投递。`,
          `${who} ${why}: the engine does not run it, and message flows to it are only drawn, ` +
          'never delivered.'
        ));
      }
    }
  }

  return { check };
}
