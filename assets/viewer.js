// Read-only BPMN viewer with the path taken and the current step highlighted.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

async function render(container, xml, { completed = [], active = [], errored = [] } = {}) {
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(xml);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, cls) => ids.forEach((id) => registry.get(id) && canvas.addMarker(id, cls));
  mark(completed, "cf-completed");
  mark(active, "cf-active");
  mark(errored, "cf-errored");
  canvas.zoom("fit-viewport");
  return viewer;
}

window.CreditFlowViewer = { render };
