// Properties groups for everything the engine reads from a diagram (the `spiffworkflow`
// extensions of bpmn/README.md): lane roles, user task forms and instructions, pre/post scripts,
// script task scripts, sequence flow conditions, timers with a due date preview, message
// variables, payloads and correlations, service task handlers with their parameters, and the
// decision a business rule task calls.
//
// `cfStudio` (a value service set by index.js) gives the draft's context: roles, handlers, the
// forms and decisions in the draft, the timer preview URL and a way to open another file's tab.
import { useEffect, useState } from "@bpmn-io/properties-panel/preact/hooks";
import {
  Group,
  ListGroup,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import {
  ensureExtension,
  getBodyExtension,
  getBusinessObject,
  getExtension,
  getSpiffProperty,
  is,
  laneOfNode,
  lanesOf,
  processOf,
  removeExtension,
  run,
  setBodyExtension,
  setSpiffProperty,
} from "./util.js";

const FORM_PROPERTY = "formJsonSchemaFilename";
const LOW_PRIORITY = 500;

// --- small building blocks -----------------------------------------------------------------------

function useStudio() {
  return useService("cfStudio");
}

function Buttons({ buttons }) {
  return (
    <div class="bio-properties-panel-entry cf-panel-buttons">
      {buttons
        .filter((b) => b)
        .map((b) => (
          <button
            type="button"
            class="cf-panel-button"
            data-action={b.action}
            disabled={b.disabled}
            onClick={b.onClick}
          >
            {b.label}
          </button>
        ))}
    </div>
  );
}

function Note({ text, kind }) {
  return (
    <div class={`bio-properties-panel-entry cf-panel-note ${kind ? `cf-note-${kind}` : ""}`}>
      {text}
    </div>
  );
}

function BodyTextArea({ element, id, bo, type, label, description, rows = 3, monospace = true }) {
  const injector = useService("injector");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  return TextAreaEntry({
    element,
    id,
    label: translate(label),
    description: description && translate(description),
    rows,
    monospace,
    autoResize: true,
    debounce,
    getValue: () => getBodyExtension(bo, type),
    setValue: (value) => setBodyExtension(injector, element, bo, type, value),
  });
}

function withUnknown(options, current, unknownLabel) {
  if (current && !options.some((o) => o.value === current)) {
    return [{ value: current, label: `${current}（${unknownLabel}）` }, ...options];
  }
  return options;
}

// --- lanes ---------------------------------------------------------------------------------------

function roleOptions(studio, translate, current) {
  const options = studio.roles.map((r) => ({ value: r.key, label: `${r.label}（${r.key}）` }));
  return withUnknown([{ value: "", label: translate("<none>") }, ...options], current, translate("Unknown role"));
}

function LaneRole({ element, id, lane }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const studio = useStudio();
  return SelectEntry({
    element,
    id,
    label: translate("Role"),
    description: translate("The lane's name is the role key the engine assigns tasks by."),
    getValue: () => lane.get("name") || "",
    setValue: (value) =>
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: lane,
        properties: { name: value || undefined },
      }),
    getOptions: () => roleOptions(studio, translate, lane.get("name")),
  });
}

function roleLabel(studio, lane) {
  const role = studio.roles.find((r) => r.key === lane.get("name"));
  return role ? `${role.label}（${role.key}）` : lane.get("name") || lane.id;
}

function lanesDrawn(elementRegistry, lanes) {
  return lanes.some((lane) => elementRegistry.get(lane.id));
}

function LaneOfNode({ element, id }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const elementRegistry = useService("elementRegistry");
  const studio = useStudio();
  const bo = getBusinessObject(element);
  const process = processOf(bo);
  const lanes = lanesOf(process).filter((lane) => !lane.get("childLaneSet"));
  const drawn = lanesDrawn(elementRegistry, lanes);
  const label = (lane) => roleLabel(studio, lane);
  return SelectEntry({
    element,
    id,
    label: translate("Lane of this step"),
    description: drawn ? translate("Lanes are drawn: move the element into a lane to change it.") : undefined,
    disabled: drawn,
    getValue: () => {
      const lane = laneOfNode(process, bo);
      return lane ? lane.id : "";
    },
    setValue: (value) =>
      commandStack.execute("cf.lane.assign", {
        element,
        node: bo,
        process,
        lane: lanes.find((l) => l.id === value) || null,
      }),
    getOptions: () => [
      { value: "", label: translate("Not in a lane") },
      ...lanes.map((lane) => ({ value: lane.id, label: label(lane) })),
    ],
  });
}

function LanesGroup(element, injector) {
  const translate = injector.get("translate");
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const elementRegistry = injector.get("elementRegistry");
  const studio = injector.get("cfStudio");
  const bo = getBusinessObject(element);
  const process = is(bo, "bpmn:Participant") ? bo.get("processRef") : bo;
  if (!process || !is(process, "bpmn:Process")) return null;
  const lanes = lanesOf(process);
  if (lanesDrawn(elementRegistry, lanes)) return null;
  const items = lanes.map((lane) => ({
    id: `${element.id}-lane-${lane.id}`,
    label: roleLabel(studio, lane),
    entries: [{ id: `${element.id}-lane-${lane.id}-role`, component: LaneRole, lane, element }],
    remove: (event) => {
      event.stopPropagation();
      const laneSet = lane.$parent;
      run(commandStack, [
        {
          cmd: "element.updateModdleProperties",
          context: {
            element,
            moddleElement: laneSet,
            properties: { lanes: laneSet.get("lanes").filter((l) => l !== lane) },
          },
        },
      ]);
    },
  }));
  const add = (event) => {
    event.stopPropagation();
    const used = new Set(lanes.map((l) => l.get("name")));
    const free = studio.roles.find((r) => !used.has(r.key));
    const lane = bpmnFactory.create("bpmn:Lane", { name: free ? free.key : undefined, flowNodeRef: [] });
    let laneSet = (process.get("laneSets") || [])[0];
    const commands = [];
    if (!laneSet) {
      laneSet = bpmnFactory.create("bpmn:LaneSet", { lanes: [] });
      laneSet.$parent = process;
      commands.push({
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: process, properties: { laneSets: [laneSet] } },
      });
    }
    lane.$parent = laneSet;
    commands.push({
      cmd: "element.updateModdleProperties",
      context: { element, moddleElement: laneSet, properties: { lanes: [...laneSet.get("lanes"), lane] } },
    });
    run(commandStack, commands);
  };
  return { id: "cf-lanes", label: translate("Lanes and roles"), component: ListGroup, items, add };
}

function LaneGroup(element, injector) {
  const translate = injector.get("translate");
  if (!is(element, "bpmn:Lane")) return null;
  const lane = getBusinessObject(element);
  return {
    id: "cf-lane-role",
    label: translate("Role (lane)"),
    component: Group,
    shouldOpen: true,
    entries: [{ id: "cf-lane-role-select", component: LaneRole, lane, element, isEdited: isSelectEntryEdited }],
  };
}

// --- user task: form, instructions, lane ---------------------------------------------------------

function FormSelect({ element, id }) {
  const injector = useService("injector");
  const translate = useService("translate");
  const studio = useStudio();
  const bo = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate("Form file"),
    getValue: () => getSpiffProperty(bo, FORM_PROPERTY),
    setValue: (value) => setSpiffProperty(injector, element, bo, FORM_PROPERTY, value),
    getOptions: () =>
      withUnknown(
        [{ value: "", label: translate("<none>") }, ...studio.forms().map((f) => ({ value: f, label: f }))],
        getSpiffProperty(bo, FORM_PROPERTY),
        translate("Not in the draft"),
      ),
  });
}

function FormButtons({ element }) {
  const translate = useService("translate");
  const injector = useService("injector");
  const studio = useStudio();
  const bo = getBusinessObject(element);
  const current = getSpiffProperty(bo, FORM_PROPERTY);
  return (
    <Buttons
      buttons={[
        {
          action: "open-form",
          label: translate("Open form"),
          disabled: !current || !studio.forms().includes(current),
          onClick: () => studio.openFile(current),
        },
        !studio.readOnly && {
          action: "new-form",
          label: translate("New form file"),
          onClick: () => {
            const name = studio.createForm(bo.id);
            if (name) setSpiffProperty(injector, element, bo, FORM_PROPERTY, name);
          },
        },
      ]}
    />
  );
}

function UserTaskGroup(element, injector) {
  const translate = injector.get("translate");
  if (!is(element, "bpmn:UserTask")) return null;
  const bo = getBusinessObject(element);
  const entries = [
    { id: "cf-form-file", component: FormSelect, isEdited: isSelectEntryEdited },
    { id: "cf-form-buttons", component: FormButtons },
    {
      id: "cf-instructions",
      component: BodyTextArea,
      bo,
      type: "spiffworkflow:InstructionsForEndUser",
      label: "Instructions for the assignee",
      description: "Jinja template shown above the form, e.g. 请在 {{ due[:10] }} 前办理。",
      monospace: false,
      isEdited: isTextAreaEntryEdited,
    },
  ];
  if (lanesOf(processOf(bo)).length) {
    entries.push({ id: "cf-lane-of-node", component: LaneOfNode, isEdited: isSelectEntryEdited });
  }
  return { id: "cf-user-task", label: translate("Form and instructions"), component: Group, shouldOpen: true, entries };
}

// --- scripts -------------------------------------------------------------------------------------

function ScriptBody({ element, id }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const bo = getBusinessObject(element);
  return TextAreaEntry({
    element,
    id,
    label: translate("Script"),
    description: translate(
      "Sandboxed Python; helpers: today(), now_iso(), add_working_days(n), deadline_after_working_days(n), working_days_between(a, b), Decimal.",
    ),
    rows: 6,
    monospace: true,
    autoResize: true,
    debounce,
    getValue: () => bo.get("script") || "",
    setValue: (value) =>
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: bo,
        properties: { script: value || undefined },
      }),
  });
}

function ScriptGroups(element, injector) {
  const translate = injector.get("translate");
  const groups = [];
  const bo = getBusinessObject(element);
  if (is(element, "bpmn:ScriptTask")) {
    groups.push({
      id: "cf-script",
      label: translate("Script"),
      component: Group,
      shouldOpen: true,
      entries: [{ id: "cf-script-body", component: ScriptBody, isEdited: isTextAreaEntryEdited }],
    });
  }
  if (is(element, "bpmn:Activity")) {
    groups.push({
      id: "cf-pre-post",
      label: translate("Scripts"),
      component: Group,
      entries: [
        {
          id: "cf-pre-script",
          component: BodyTextArea,
          bo,
          type: "spiffworkflow:PreScript",
          label: "Pre-script",
          description: "Runs before the step starts (sandboxed Python).",
          isEdited: isTextAreaEntryEdited,
        },
        {
          id: "cf-post-script",
          component: BodyTextArea,
          bo,
          type: "spiffworkflow:PostScript",
          label: "Post-script",
          description: "Runs after the step completes (sandboxed Python).",
          isEdited: isTextAreaEntryEdited,
        },
      ],
    });
  }
  return groups;
}

// --- sequence flow condition ---------------------------------------------------------------------

function ConditionEntry({ element, id }) {
  const commandStack = useService("commandStack");
  const bpmnFactory = useService("bpmnFactory");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const bo = getBusinessObject(element);
  return TextAreaEntry({
    element,
    id,
    label: translate("Condition expression"),
    description: translate(
      'Python expression, e.g. acceptance["ok"] == True. Empty: always taken (or the default flow).',
    ),
    rows: 2,
    monospace: true,
    autoResize: true,
    debounce,
    getValue: () => {
      const expr = bo.get("conditionExpression");
      return (expr && expr.get("body")) || "";
    },
    setValue: (value) => {
      let conditionExpression;
      if (value && value.trim()) {
        conditionExpression = bpmnFactory.create("bpmn:FormalExpression", { body: value });
        conditionExpression.$parent = bo;
      }
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: bo,
        properties: { conditionExpression },
      });
    },
  });
}

function ConditionGroup(element, injector) {
  const translate = injector.get("translate");
  if (!is(element, "bpmn:SequenceFlow")) return null;
  const source = getBusinessObject(element).get("sourceRef");
  if (!source || is(source, "bpmn:ParallelGateway") || is(source, "bpmn:EventBasedGateway")) return null;
  if (is(source, "bpmn:Event")) return null;
  return {
    id: "cf-condition",
    label: translate("Condition"),
    component: Group,
    shouldOpen: true,
    entries: [{ id: "cf-condition-expression", component: ConditionEntry, isEdited: isTextAreaEntryEdited }],
  };
}

// --- timers --------------------------------------------------------------------------------------

const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];
const TIMER_EXAMPLES = {
  timeDuration: ['"P5D"', '"PT2H"', '"P1DT12H"'],
  timeDate: ["deadline_after_working_days(5)", "review_due", '"2026-12-31T17:00:00+08:00"'],
  timeCycle: ['"R3/P1D"', '"R/PT1H"'],
};

function timerDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

function timerKind(def) {
  return TIMER_KINDS.find((k) => def.get(k)) || "timeDuration";
}

function timerExpression(def) {
  const expr = def.get(timerKind(def));
  return (expr && expr.get("body")) || "";
}

function setTimer(commandStack, bpmnFactory, element, def, kind, body) {
  const properties = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
  const expr = bpmnFactory.create("bpmn:FormalExpression", { body: body || "" });
  expr.$parent = def;
  properties[kind] = expr;
  commandStack.execute("element.updateModdleProperties", { element, moddleElement: def, properties });
}

function TimerKind({ element, id, def }) {
  const commandStack = useService("commandStack");
  const bpmnFactory = useService("bpmnFactory");
  const translate = useService("translate");
  const labels = {
    timeDuration: translate("Duration (timeDuration)"),
    timeDate: translate("Date (timeDate)"),
    timeCycle: translate("Cycle (timeCycle)"),
  };
  return SelectEntry({
    element,
    id,
    label: translate("Timer type"),
    getValue: () => timerKind(def),
    setValue: (kind) => setTimer(commandStack, bpmnFactory, element, def, kind, timerExpression(def)),
    getOptions: () => TIMER_KINDS.map((k) => ({ value: k, label: labels[k] })),
  });
}

function TimerExpression({ element, id, def }) {
  const commandStack = useService("commandStack");
  const bpmnFactory = useService("bpmnFactory");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  return TextFieldEntry({
    element,
    id,
    label: translate("Expression"),
    description: translate('Python expression: quote literals ("P5D"); dates carry +08:00.'),
    debounce,
    getValue: () => timerExpression(def),
    setValue: (value) => setTimer(commandStack, bpmnFactory, element, def, timerKind(def), value),
  });
}

function TimerExamples({ element, def }) {
  const commandStack = useService("commandStack");
  const bpmnFactory = useService("bpmnFactory");
  const translate = useService("translate");
  const studio = useStudio();
  const kind = timerKind(def);
  return (
    <div class="bio-properties-panel-entry cf-timer-examples">
      <div class="bio-properties-panel-label">{translate("Examples")}</div>
      {((studio.timerExamples && studio.timerExamples[kind]) || TIMER_EXAMPLES[kind]).map((example) => (
        <button
          type="button"
          class="cf-chip"
          disabled={studio.readOnly}
          onClick={() => setTimer(commandStack, bpmnFactory, element, def, kind, example)}
        >
          {example}
        </button>
      ))}
    </div>
  );
}

function TimerPreview({ def }) {
  const translate = useService("translate");
  const studio = useStudio();
  const kind = timerKind(def);
  const expression = timerExpression(def);
  const [state, setState] = useState({ text: "", kind: "" });
  useEffect(() => {
    if (!expression.trim()) {
      setState({ text: "", kind: "" });
      return undefined;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      studio
        .timerPreview(kind, expression)
        .then((result) => !cancelled && setState(result))
        .catch(() => !cancelled && setState({ text: "?", kind: "error" }));
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [kind, expression]);
  return (
    <div class="bio-properties-panel-entry cf-timer-preview" data-kind={state.kind}>
      <div class="bio-properties-panel-label">{translate("Due date preview")}</div>
      <div class={`cf-preview-text ${state.kind ? `cf-note-${state.kind}` : ""}`}>{state.text || "—"}</div>
    </div>
  );
}

function TimerGroup(element, injector) {
  const translate = injector.get("translate");
  const def = timerDefinition(element);
  if (!def) return null;
  return {
    id: "cf-timer",
    label: translate("Timer (engine)"),
    component: Group,
    shouldOpen: true,
    entries: [
      { id: "cf-timer-kind", component: TimerKind, def, isEdited: isSelectEntryEdited },
      { id: "cf-timer-expression", component: TimerExpression, def, isEdited: isTextFieldEntryEdited },
      { id: "cf-timer-examples", component: TimerExamples, def },
      { id: "cf-timer-preview", component: TimerPreview, def },
    ],
  };
}

// --- messages ------------------------------------------------------------------------------------

function messageDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:MessageEventDefinition"));
}

function isCatching(element) {
  return (
    is(element, "bpmn:StartEvent") ||
    is(element, "bpmn:IntermediateCatchEvent") ||
    is(element, "bpmn:BoundaryEvent")
  );
}

function CorrelationField({ element, id, correlation, part, label }) {
  const commandStack = useService("commandStack");
  const bpmnFactory = useService("bpmnFactory");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const type = part === "propertyId" ? "spiffworkflow:PropertyId" : "spiffworkflow:Expression";
  return TextFieldEntry({
    element,
    id,
    label: translate(label),
    debounce,
    getValue: () => {
      const child = correlation.get(part);
      return (child && child.get("value")) || "";
    },
    setValue: (value) => {
      const child = correlation.get(part);
      if (child) {
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: child,
          properties: { value: value || "" },
        });
        return;
      }
      const created = bpmnFactory.create(type, { value: value || "" });
      created.$parent = correlation;
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: correlation,
        properties: { [part]: created },
      });
    },
  });
}

function MessageGroups(element, injector) {
  const translate = injector.get("translate");
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const def = messageDefinition(element);
  if (!def) return [];
  const catching = isCatching(element);
  const groups = [
    {
      id: "cf-message",
      label: translate("Message (engine)"),
      component: Group,
      shouldOpen: true,
      entries: [
        catching
          ? {
              id: "cf-message-variable",
              component: BodyTextArea,
              bo: def,
              type: "spiffworkflow:MessageVariable",
              label: "Message variable",
              description: "The received payload is stored in this variable.",
              rows: 1,
              isEdited: isTextAreaEntryEdited,
            }
          : {
              id: "cf-message-payload",
              component: BodyTextArea,
              bo: def,
              type: "spiffworkflow:MessagePayload",
              label: "Message payload",
              description: 'Python expression of the payload sent, e.g. {"case_id": case_id}.',
              rows: 3,
              isEdited: isTextAreaEntryEdited,
            },
      ],
    },
  ];
  const correlations = (getBusinessObject(def).get("extensionElements")?.get("values") || []).filter((v) =>
    is(v, "spiffworkflow:ProcessVariableCorrelation"),
  );
  const items = correlations.map((correlation, index) => {
    const id = `${element.id}-correlation-${index}`;
    const propertyId = correlation.get("propertyId");
    return {
      id,
      label: (propertyId && propertyId.get("value")) || translate("Correlation property"),
      entries: [
        { id: `${id}-property`, component: CorrelationField, correlation, part: "propertyId", label: "Correlation property", element },
        { id: `${id}-expression`, component: CorrelationField, correlation, part: "expression", label: "Correlation expression", element },
      ],
      autoFocusEntry: `${id}-property`,
      remove: (event) => {
        event.stopPropagation();
        removeExtension(injector, element, def, correlation);
      },
    };
  });
  groups.push({
    id: "cf-correlation",
    label: translate("Correlation"),
    component: ListGroup,
    items,
    add: (event) => {
      event.stopPropagation();
      const correlation = bpmnFactory.create("spiffworkflow:ProcessVariableCorrelation", {});
      const propertyId = bpmnFactory.create("spiffworkflow:PropertyId", { value: "" });
      const expression = bpmnFactory.create("spiffworkflow:Expression", { value: "" });
      propertyId.$parent = correlation;
      expression.$parent = correlation;
      correlation.propertyId = propertyId;
      correlation.expression = expression;
      const ext = def.get("extensionElements");
      if (ext) {
        correlation.$parent = ext;
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: ext,
          properties: { values: [...ext.get("values"), correlation] },
        });
      } else {
        const created = bpmnFactory.create("bpmn:ExtensionElements", { values: [correlation] });
        created.$parent = def;
        correlation.$parent = created;
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: def,
          properties: { extensionElements: created },
        });
      }
    },
  });
  return groups;
}

// --- service task --------------------------------------------------------------------------------

function operatorOf(bo) {
  return getExtension(bo, "spiffworkflow:ServiceTaskOperator");
}

function HandlerSelect({ element, id }) {
  const injector = useService("injector");
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const studio = useStudio();
  const bo = getBusinessObject(element);
  const current = (operatorOf(bo) && operatorOf(bo).get("id")) || "";
  const handler = studio.handlers.find((h) => h.name === current);
  return SelectEntry({
    element,
    id,
    label: translate("Handler"),
    description: handler ? handler.doc : undefined,
    getValue: () => current,
    setValue: (value) => {
      const operator = operatorOf(bo);
      if (!value) {
        if (operator) removeExtension(injector, element, bo, operator);
        return;
      }
      if (operator) {
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: operator,
          properties: { id: value },
        });
        return;
      }
      const bpmnFactory = injector.get("bpmnFactory");
      const parameterList = bpmnFactory.create("spiffworkflow:Parameters", { parameters: [] });
      const created = ensureExtension(injector, element, bo, "spiffworkflow:ServiceTaskOperator", {
        id: value,
        parameterList,
      });
      parameterList.$parent = created;
    },
    getOptions: () =>
      withUnknown(
        [
          { value: "", label: translate("<none>") },
          ...studio.handlers.map((h) => ({ value: h.name, label: h.name })),
        ],
        current,
        translate("Unknown handler"),
      ),
  });
}

function ResultVariable({ element, id }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const operator = operatorOf(getBusinessObject(element));
  return TextFieldEntry({
    element,
    id,
    label: translate("Result variable"),
    debounce,
    disabled: !operator,
    getValue: () => (operator && operator.get("resultVariable")) || "",
    setValue: (value) =>
      operator &&
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: operator,
        properties: { resultVariable: value || undefined },
      }),
  });
}

const PARAMETER_TYPES = ["str", "int", "float", "bool", "dict", "list", "any"];

function ParameterField({ element, id, parameter, attr, label }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  if (attr === "type") {
    return SelectEntry({
      element,
      id,
      label: translate(label),
      getValue: () => parameter.get("type") || "",
      setValue: (value) =>
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: parameter,
          properties: { type: value },
        }),
      getOptions: () =>
        withUnknown(
          PARAMETER_TYPES.map((t) => ({ value: t, label: t })),
          parameter.get("type"),
          "?",
        ),
    });
  }
  return TextFieldEntry({
    element,
    id,
    label: translate(label),
    debounce,
    getValue: () => parameter.get(attr) || "",
    setValue: (value) =>
      commandStack.execute("element.updateModdleProperties", {
        element,
        moddleElement: parameter,
        properties: { [attr]: value },
      }),
  });
}

function ServiceTaskGroups(element, injector) {
  const translate = injector.get("translate");
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  if (!is(element, "bpmn:ServiceTask")) return [];
  const bo = getBusinessObject(element);
  const groups = [
    {
      id: "cf-service",
      label: translate("Service handler"),
      component: Group,
      shouldOpen: true,
      entries: [
        { id: "cf-service-handler", component: HandlerSelect, isEdited: isSelectEntryEdited },
        { id: "cf-service-result", component: ResultVariable, isEdited: isTextFieldEntryEdited },
      ],
    },
  ];
  const operator = operatorOf(bo);
  if (!operator) return groups;
  const parameterList = operator.get("parameterList");
  const parameters = (parameterList && parameterList.get("parameters")) || [];
  const items = parameters.map((parameter, index) => {
    const id = `${element.id}-parameter-${index}`;
    return {
      id,
      label: parameter.get("id") || translate("Parameter"),
      entries: [
        { id: `${id}-id`, component: ParameterField, parameter, attr: "id", label: "Parameter name", element },
        { id: `${id}-type`, component: ParameterField, parameter, attr: "type", label: "Parameter type", element },
        { id: `${id}-value`, component: ParameterField, parameter, attr: "value", label: "Value expression", element },
      ],
      autoFocusEntry: `${id}-id`,
      remove: (event) => {
        event.stopPropagation();
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: parameterList,
          properties: { parameters: parameters.filter((p) => p !== parameter) },
        });
      },
    };
  });
  groups.push({
    id: "cf-service-parameters",
    label: translate("Parameters"),
    component: ListGroup,
    items,
    add: (event) => {
      event.stopPropagation();
      const parameter = bpmnFactory.create("spiffworkflow:Parameter", { id: "", type: "str", value: "" });
      if (parameterList) {
        parameter.$parent = parameterList;
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: parameterList,
          properties: { parameters: [...parameters, parameter] },
        });
      } else {
        const created = bpmnFactory.create("spiffworkflow:Parameters", { parameters: [parameter] });
        created.$parent = operator;
        parameter.$parent = created;
        commandStack.execute("element.updateModdleProperties", {
          element,
          moddleElement: operator,
          properties: { parameterList: created },
        });
      }
    },
  });
  return groups;
}

// --- business rule task --------------------------------------------------------------------------

function DecisionSelect({ element, id }) {
  const injector = useService("injector");
  const translate = useService("translate");
  const studio = useStudio();
  const bo = getBusinessObject(element);
  const current = getBodyExtension(bo, "spiffworkflow:CalledDecisionId");
  return SelectEntry({
    element,
    id,
    label: translate("Decision"),
    getValue: () => current,
    setValue: (value) => setBodyExtension(injector, element, bo, "spiffworkflow:CalledDecisionId", value),
    getOptions: () =>
      withUnknown(
        [
          { value: "", label: translate("<none>") },
          ...studio.decisions().map((d) => ({ value: d.id, label: d.name ? `${d.name}（${d.id}）` : d.id })),
        ],
        current,
        translate("Unknown decision"),
      ),
  });
}

function DecisionButtons({ element }) {
  const translate = useService("translate");
  const studio = useStudio();
  const current = getBodyExtension(getBusinessObject(element), "spiffworkflow:CalledDecisionId");
  const decision = studio.decisions().find((d) => d.id === current);
  return (
    <Buttons
      buttons={[
        {
          action: "open-decision",
          label: translate("Open decision table"),
          disabled: !decision,
          onClick: () => studio.openFile(decision.file, decision.id),
        },
      ]}
    />
  );
}

function DecisionGroup(element, injector) {
  const translate = injector.get("translate");
  if (!is(element, "bpmn:BusinessRuleTask")) return null;
  return {
    id: "cf-decision",
    label: translate("Decision table"),
    component: Group,
    shouldOpen: true,
    entries: [
      { id: "cf-decision-id", component: DecisionSelect, isEdited: isSelectEntryEdited },
      { id: "cf-decision-open", component: DecisionButtons },
    ],
  };
}

// --- the provider --------------------------------------------------------------------------------

export default class SpiffPropertiesProvider {
  constructor(propertiesPanel, injector) {
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
    this._injector = injector;
  }

  getGroups(element) {
    return (groups) => {
      const injector = this._injector;
      const ours = [
        LaneGroup(element, injector),
        UserTaskGroup(element, injector),
        ...ServiceTaskGroups(element, injector),
        DecisionGroup(element, injector),
        ...ScriptGroups(element, injector),
        ConditionGroup(element, injector),
        TimerGroup(element, injector),
        ...MessageGroups(element, injector),
        is(element, "bpmn:Process") || is(element, "bpmn:Participant") ? LanesGroup(element, injector) : null,
      ].filter((g) => g);
      // Our timer group replaces the toolkit's (which has no examples nor preview).
      const kept = groups.filter((g) => g.id !== "timer");
      const at = kept.findIndex((g) => g.id === "general");
      kept.splice(at + 1, 0, ...ours);
      return kept;
    };
  }
}

SpiffPropertiesProvider.$inject = ["propertiesPanel", "injector"];

// Moves a flow node between (undrawn) lanes: Lane.flowNodeRef and the node's `lanes` back-refs.
class AssignLaneHandler {
  execute(context) {
    const { node, process, lane } = context;
    context.oldLanes = lanesOf(process).filter((l) => (l.get("flowNodeRef") || []).includes(node));
    context.oldLanes.forEach((l) => {
      const refs = l.get("flowNodeRef");
      refs.splice(refs.indexOf(node), 1);
    });
    if (lane) lane.get("flowNodeRef").push(node);
    context.oldNodeLanes = [...(node.get("lanes") || [])];
    node.set("lanes", lane ? [lane] : []);
    return [context.element];
  }

  revert(context) {
    const { node, lane, oldLanes, oldNodeLanes } = context;
    if (lane) {
      const refs = lane.get("flowNodeRef");
      refs.splice(refs.indexOf(node), 1);
    }
    oldLanes.forEach((l) => l.get("flowNodeRef").push(node));
    node.set("lanes", oldNodeLanes);
    return [context.element];
  }
}

function registerHandlers(commandStack) {
  commandStack.registerHandler("cf.lane.assign", AssignLaneHandler);
}
registerHandlers.$inject = ["commandStack"];

export const SpiffPropertiesModule = {
  __init__: ["spiffPropertiesProvider", "cfLaneCommands"],
  spiffPropertiesProvider: ["type", SpiffPropertiesProvider],
  cfLaneCommands: ["type", registerHandlers],
};
