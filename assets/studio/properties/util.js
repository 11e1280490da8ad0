// Helpers to read and write `spiffworkflow:*` extension elements through the command stack, so
// every edit is undoable and other extension elements stay untouched.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export { getBusinessObject, is };

export function extensionValues(bo) {
  const ext = bo && bo.get("extensionElements");
  return (ext && ext.get("values")) || [];
}

export function getExtension(bo, type) {
  return extensionValues(bo).find((value) => is(value, type));
}

/** Commands that put `created` into `bo`'s extension elements (creating the container). */
function addExtensionCommands(element, bo, created, bpmnFactory) {
  const commands = [];
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    commands.push({
      cmd: "element.updateModdleProperties",
      context: { element, moddleElement: bo, properties: { extensionElements: ext } },
    });
  }
  created.$parent = ext;
  commands.push({
    cmd: "element.updateModdleProperties",
    context: {
      element,
      moddleElement: ext,
      properties: { values: [...ext.get("values"), created] },
    },
  });
  return commands;
}

function removeExtensionCommands(element, bo, existing) {
  const ext = bo.get("extensionElements");
  return [
    {
      cmd: "element.updateModdleProperties",
      context: {
        element,
        moddleElement: ext,
        properties: { values: ext.get("values").filter((v) => v !== existing) },
      },
    },
  ];
}

export function run(commandStack, commands) {
  if (!commands.length) return;
  if (commands.length === 1) {
    commandStack.execute(commands[0].cmd, commands[0].context);
  } else {
    commandStack.execute("properties-panel.multi-command-executor", commands);
  }
}

/** Set the text of a body-only extension element (`spiffworkflow:preScript` …); "" removes it. */
export function setBodyExtension(injector, element, bo, type, value) {
  const commandStack = injector.get("commandStack");
  const bpmnFactory = injector.get("bpmnFactory");
  const existing = getExtension(bo, type);
  const text = value == null ? "" : String(value);
  if (!text.trim()) {
    if (existing) run(commandStack, removeExtensionCommands(element, bo, existing));
    return;
  }
  if (existing) {
    run(commandStack, [
      {
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: existing, properties: { value: text } },
      },
    ]);
    return;
  }
  const created = bpmnFactory.create(type, { value: text });
  run(commandStack, addExtensionCommands(element, bo, created, bpmnFactory));
}

export function getBodyExtension(bo, type) {
  const existing = getExtension(bo, type);
  return (existing && existing.get("value")) || "";
}

/** Ensure an extension element of `type` exists; returns it (creating it via commands). */
export function ensureExtension(injector, element, bo, type, attrs = {}) {
  const existing = getExtension(bo, type);
  if (existing) return existing;
  const bpmnFactory = injector.get("bpmnFactory");
  const created = bpmnFactory.create(type, attrs);
  run(injector.get("commandStack"), addExtensionCommands(element, bo, created, bpmnFactory));
  return created;
}

export function removeExtension(injector, element, bo, existing) {
  if (!existing) return;
  run(injector.get("commandStack"), removeExtensionCommands(element, bo, existing));
}

// --- spiffworkflow:properties / property[name] -------------------------------------------------

export function getSpiffProperty(bo, name) {
  const props = getExtension(bo, "spiffworkflow:Properties");
  const found = props && (props.get("properties") || []).find((p) => p.get("name") === name);
  return (found && found.get("value")) || "";
}

export function setSpiffProperty(injector, element, bo, name, value) {
  const commandStack = injector.get("commandStack");
  const bpmnFactory = injector.get("bpmnFactory");
  const props = getExtension(bo, "spiffworkflow:Properties");
  const list = (props && props.get("properties")) || [];
  const found = list.find((p) => p.get("name") === name);
  if (!value) {
    if (!found) return;
    if (list.length === 1) {
      run(commandStack, removeExtensionCommands(element, bo, props));
    } else {
      run(commandStack, [
        {
          cmd: "element.updateModdleProperties",
          context: {
            element,
            moddleElement: props,
            properties: { properties: list.filter((p) => p !== found) },
          },
        },
      ]);
    }
    return;
  }
  if (found) {
    run(commandStack, [
      {
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: found, properties: { value } },
      },
    ]);
    return;
  }
  const property = bpmnFactory.create("spiffworkflow:Property", { name, value });
  if (props) {
    property.$parent = props;
    run(commandStack, [
      {
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: props, properties: { properties: [...list, property] } },
      },
    ]);
    return;
  }
  const created = bpmnFactory.create("spiffworkflow:Properties", { properties: [property] });
  property.$parent = created;
  run(commandStack, addExtensionCommands(element, bo, created, bpmnFactory));
}

// --- lanes ---------------------------------------------------------------------------------------

/** The process a (possibly nested) flow element belongs to. */
export function processOf(bo) {
  let node = bo;
  while (node && !is(node, "bpmn:Process")) {
    if (is(node, "bpmn:Participant")) return node.get("processRef");
    node = node.$parent;
  }
  return node;
}

/** All lanes of a process, nested lane sets included. */
export function lanesOf(process) {
  const lanes = [];
  const walk = (laneSet) => {
    (laneSet && laneSet.get("lanes") ? laneSet.get("lanes") : []).forEach((lane) => {
      lanes.push(lane);
      walk(lane.get("childLaneSet"));
    });
  };
  ((process && process.get("laneSets")) || []).forEach(walk);
  return lanes;
}

export function laneOfNode(process, bo) {
  return lanesOf(process).find((lane) => (lane.get("flowNodeRef") || []).includes(bo));
}
