// Sequence-flow loops (validation_bpmn._check_cycles, a warning on the server too): each lap
// deepens the task tree and after ~333 laps the instance silently stalls.

import { describe, graphOf, is, inExecutableScope, isContainer, localName, msg } from '../util.js';

/** Strongly connected components with a cycle (Tarjan, iterative). */
export function cyclicComponents(ids, edges) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let counter = 0;
  for (const start of ids) {
    if (index.has(start)) {
      continue;
    }
    const work = [ [ start, 0 ] ];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const [ node, next ] = frame;
      const successors = edges.get(node);
      if (next < successors.length) {
        frame[1]++;
        const target = successors[next];
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push([ target, 0 ]);
        } else if (onStack.has(target)) {
          low.set(node, Math.min(low.get(node), index.get(target)));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = new Set();
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.add(member);
        } while (member !== node);
        if (component.size > 1 || successors.includes(node)) {
          components.push(component);
        }
      }
    }
  }
  return components;
}

export default function noGatewayLoop(config) {
  function check(node, reporter) {
    if (!isContainer(node) || !inExecutableScope(node)) {
      return;
    }
    const { nodes, ids, outgoing } = graphOf(node);
    const edges = new Map(nodes.map((n) => [
      n.id,
      outgoing.get(n.id).map((f) => f.targetRef && f.targetRef.id).filter((t) => ids.has(t))
    ]));
    for (const n of nodes) { // a boundary event leaves the task it is attached to
      const host = n.attachedToRef && n.attachedToRef.id;
      if (is(n, 'bpmn:BoundaryEvent') && edges.has(host)) {
        edges.get(host).push(n.id);
      }
    }
    for (const component of cyclicComponents(nodes.map((n) => n.id), edges)) {
      const members = nodes.filter((n) => component.has(n.id));
      const gateway = members.find((el) => localName(el).endsWith('Gateway')) || members[0];
      const path = members.slice(0, 6).map((el) => el.name || el.id).join(' → ');
      const who = describe(gateway, config);
      reporter.report(gateway.id, msg(
        config,
        `${who}处有顺序流回路（${path}）。每绕一圈任务树加深约 3 层，约 333 圈后` +
        '流程会无声停滞。请改用任务的标准循环（standardLoopCharacteristics），或每轮新建一个流程实例。',
        `${who} is on a sequence-flow loop (${path}). Each lap deepens the task tree by about 3 levels ` +
        'and after ~333 laps the instance silently stalls. Use standardLoopCharacteristics on a task, ' +
        'or start a new instance per cycle.'
      ));
    }
  }

  return { check };
}
