// Read-only BPMN viewer with the path taken and the current step highlighted.
// Diagrams deployed without layout (no BPMN DI) are laid out automatically first.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { layoutProcess } from "bpmn-auto-layout";

async function withLayout(xml) {
  if (xml.includes("BPMNDiagram") && xml.includes("BPMNShape")) {
    return xml;
  }
  return layoutProcess(xml);
}

// Map every flow element id to its parent's id, so a step inside a collapsed sub-process
// marks the sub-process that is drawn.
function parentsOf(definitions) {
  const parents = {};
  const walk = (container) => {
    (container.flowElements || []).forEach((el) => {
      parents[el.id] = container.id;
      walk(el);
    });
  };
  (definitions.rootElements || []).forEach(walk);
  return parents;
}

async function render(container, xml, { completed = [], active = [], errored = [] } = {}) {
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(await withLayout(xml));
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const parents = parentsOf(viewer.getDefinitions());
  const root = canvas.getRootElement();
  const onRootPlane = (element) => {
    let node = element;
    while (node && node.parent) node = node.parent;
    return node === root;
  };
  const drawn = (id) => {
    let current = id;
    while (current && !(registry.get(current) && onRootPlane(registry.get(current)))) {
      current = parents[current];
    }
    return current || null;
  };
  const mark = (ids, cls) =>
    ids.forEach((id) => {
      const target = drawn(id);
      if (target) canvas.addMarker(target, cls);
    });
  mark(completed, "cf-completed");
  mark(active, "cf-active");
  mark(errored, "cf-errored");
  canvas.zoom("fit-viewport");
  return viewer;
}

window.CreditFlowViewer = { render };
