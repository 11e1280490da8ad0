// Document-wide walks used by rules that check at the bpmn:Definitions level.

import { is, isContainer, childrenOf, localName } from './util.js';

/** Every flow element of every process and (nested) sub-process, with its ancestors. */
export function flowElementsDeep(definitions) {
  const found = [];
  function visit(container, ancestors) {
    for (const element of container.flowElements || []) {
      found.push({ element, ancestors });
      if (isContainer(element)) {
        visit(element, [ ...ancestors, element ]);
      }
    }
  }
  for (const root of definitions.rootElements || []) {
    if (is(root, 'bpmn:Process')) {
      visit(root, [ root ]);
    }
  }
  return found;
}

/** Every container (process, sub-process, transaction, ad-hoc sub-process). */
export function containersDeep(definitions) {
  const processes = (definitions.rootElements || []).filter((root) => is(root, 'bpmn:Process'));
  const nested = flowElementsDeep(definitions)
    .map(({ element }) => element)
    .filter(isContainer);
  return [ ...processes, ...nested ];
}

/**
 * Flow node id -> lane name, in document order (a nested lane's refs come after its parent's,
 * as in `//bpmn:lane/bpmn:flowNodeRef`). An empty name maps to ''.
 */
export function laneMap(definitions) {
  const lanes = new Map();
  function visitLane(lane) {
    for (const ref of lane.flowNodeRef || []) {
      const id = ref && (ref.id || (typeof ref === 'string' ? ref : undefined));
      if (id) {
        lanes.set(id, lane.name || '');
      }
    }
    const child = lane.childLaneSet;
    for (const nested of (child && child.lanes) || []) {
      visitLane(nested);
    }
  }
  function visitContainer(container) {
    for (const laneSet of container.laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        visitLane(lane);
      }
    }
  }
  for (const container of containersDeep(definitions)) {
    visitContainer(container);
  }
  return lanes;
}

const HELPER_SUFFIXES = [ 'EventDefinition', 'Characteristics', 'Expression' ];

/** Is this the element a process owner recognises (validation_bpmn.owner)? */
export function isOwner(element) {
  if (!element || !element.id || !(element.$type || '').startsWith('bpmn:')) {
    return false;
  }
  const local = localName(element);
  return !HELPER_SUFFIXES.some((suffix) => local.endsWith(suffix));
}

/**
 * Visit every element under `root` (typed and generic) depth first, with its parent and the
 * nearest owner element: `visitor(element, parent, owner)`.
 */
export function walkAll(root, visitor) {
  const seen = new Set();
  function visit(element, parent, owner) {
    if (!element || typeof element !== 'object' || seen.has(element)) {
      return;
    }
    seen.add(element);
    const nextOwner = isOwner(element) ? element : owner;
    visitor(element, parent, nextOwner);
    for (const child of childrenOf(element)) {
      visit(child, element, nextOwner);
    }
  }
  visit(root, null, root);
}
