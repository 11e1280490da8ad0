// Diagram information that bpmn-js would drop when the modeler saves a model it did not create:
//
// - DI of elements it does not draw. BpmnDiOrdering rebuilds each drawn plane's `planeElement`
//   from the rendered elements on `saveXML.start`, so the shapes and edges of, e.g., a called
//   process drawn inside an expanded call activity (BPMN MIWG B.1.0, B.2.0) vanish. After import
//   the keeper remembers every plane element that no rendered element owns, and puts it back
//   (once, after BpmnDiOrdering) on each save, as long as its model element is still part of the
//   definitions. Elements that were drawn are never remembered, so deleting one in the modeler
//   deletes its DI.
// - DI attributes written with the value bpmn-moddle declares as their default
//   (`messageVisibleKind="initiating"` on a BPMNEdge; the BPMN DI XSD declares no default):
//   moddle omits a property equal to its default, so for the duration of the save such a value
//   is also given as a plain attribute (`$attrs`), which moddle writes as it is.

const BPMN_DI_ORDERING_PRIORITY = 2000; // bpmn-js/lib/features/di-ordering/BpmnDiOrdering.js
const AFTER_DI_ORDERING = BPMN_DI_ORDERING_PRIORITY - 500;

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

/** Whether `element` is still contained, parent by parent, in `definitions`. */
function isAttached(element, definitions) {
  let node = element;
  for (let depth = 0; node && depth < 1000; depth++) {
    if (node === definitions) return true;
    const parent = node.$parent;
    if (!parent || !parent.$descriptor) return false;
    const contained = parent.$descriptor.properties.some((p) => {
      if (p.isReference || p.isAttr || p.isVirtual) return false;
      const value = parent.get(p.name);
      return p.isMany ? Array.isArray(value) && value.includes(node) : value === node;
    });
    if (!contained) return false;
    node = parent;
  }
  return false;
}

/** Every DI element under the definitions' diagrams: diagrams, planes, shapes, edges, labels. */
function diElements(definitions) {
  const found = [];
  for (const diagram of definitions.get("diagrams") || []) {
    found.push(diagram);
    const plane = diagram.plane;
    if (!plane) continue;
    found.push(plane);
    for (const di of plane.get("planeElement") || []) {
      found.push(di);
      if (di.label) found.push(di.label);
    }
  }
  return found;
}

export function DiKeeper(eventBus, canvas, elementRegistry) {
  let kept = []; // [{plane, di}] in document order

  const renderedDi = () => {
    const set = new Set();
    for (const element of elementRegistry.getAll()) if (element.di) set.add(element.di);
    return set;
  };

  eventBus.on("import.done", ({ error }) => {
    kept = [];
    if (error) return;
    const rendered = renderedDi();
    for (const root of canvas.getRootElements()) {
      const plane = root.di;
      if (!plane || !plane.$instanceOf || !plane.$instanceOf("bpmndi:BPMNPlane")) continue;
      for (const di of plane.get("planeElement") || []) {
        if (!rendered.has(di)) kept.push({ plane, di });
      }
    }
  });

  eventBus.on("saveXML.start", AFTER_DI_ORDERING, ({ definitions }) => {
    if (!definitions) return;
    if (kept.length) {
      const rendered = renderedDi();
      for (const { plane, di } of kept) {
        const planeElements = plane.get("planeElement");
        if (planeElements.includes(di) || rendered.has(di)) continue;
        // The plane must still be drawn (its diagram still in the definitions), and what the DI
        // shows still be in the model.
        if (!isAttached(plane, definitions)) continue;
        if (di.bpmnElement && !isAttached(di.bpmnElement, definitions)) continue;
        planeElements.push(di);
      }
    }
    restoreDefaults(definitions);
  });

  // Attributes given explicitly for this save only (see restoreDefaults).
  let explicit = [];

  function restoreDefaults(definitions) {
    dropExplicit();
    for (const di of diElements(definitions)) {
      const descriptor = di.$descriptor;
      if (!descriptor) continue;
      for (const p of descriptor.properties) {
        if (!p.isAttr || p.isMany || p.default === undefined || !hasOwn(di, p.name)) continue;
        if (di[p.name] !== p.default) continue;
        const name = p.ns && p.ns.localName ? p.ns.localName : p.name;
        if (hasOwn(di.$attrs, name)) continue;
        di.$attrs[name] = String(di[p.name]);
        explicit.push({ di, name });
      }
    }
  }

  function dropExplicit() {
    for (const { di, name } of explicit) delete di.$attrs[name];
    explicit = [];
  }

  eventBus.on("saveXML.done", dropExplicit);
}

DiKeeper.$inject = ["eventBus", "canvas", "elementRegistry"];

export default {
  __init__: ["cfDiKeeper"],
  cfDiKeeper: ["type", DiKeeper],
};
