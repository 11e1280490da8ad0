// A call activity calls a process of the draft (the parser's "The process … was not found").
// Processes of the same file always count; `processIds` adds those of the draft's other files.
// Without `processIds`, an unknown called process is not reported (it may be in another file).

import { describe, is, joinList, msg, optionList } from '../util.js';

export default function callActivity(config) {
  const processIds = optionList(config, 'processIds');

  function check(node, reporter) {
    if (!is(node, 'bpmn:Definitions')) {
      return;
    }
    const local = (node.rootElements || []).filter((el) => is(el, 'bpmn:Process')).map((p) => p.id);
    const known = [ ...new Set([ ...local, ...(processIds || []) ]) ].sort();
    const listed = joinList(known, config);
    const visit = (container) => {
      for (const element of container.flowElements || []) {
        if (is(element, 'bpmn:CallActivity')) {
          const who = describe(element, config);
          const called = element.calledElement;
          if (!called) {
            reporter.report(element.id, msg(
              config,
              `${who}没有指定被调用的流程（calledElement）。请填写流程 id：${listed}。`,
              `${who} has no called process (calledElement). Set it to a process id: ${listed}.`
            ));
          } else if (processIds && !known.includes(called)) {
            reporter.report(element.id, msg(
              config,
              `${who}调用的流程 '${called}' 不在草稿文件中。请添加包含该流程的 .bpmn 文件，` +
              `或改正 calledElement（可用：${listed}）。`,
              `${who} calls process '${called}', which is not in the draft's files. Add a .bpmn file ` +
              `with that process or fix calledElement (available: ${listed}).`
            ));
          }
        }
        if (element.flowElements) {
          visit(element);
        }
      }
    };
    for (const root of node.rootElements || []) {
      if (is(root, 'bpmn:Process') && root.isExecutable !== false) {
        visit(root);
      }
    }
  }

  return { check };
}
