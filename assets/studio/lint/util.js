// Shared helpers of the CreditFlow bpmnlint rule pack: element names, extension elements and
// the sequence-flow graph, read the way the server's validation (app/engine/validation_bpmn.py)
// reads the XML. They work whether or not a spiffworkflow moddle descriptor is loaded: without
// it, spiffworkflow elements are generic (`$children`, `$body`, attributes as properties).
//
// Messages come in Chinese (the default) and English: every rule gets the `locale` option
// ("zh" or "en", from createLintConfig) and writes each message once as a pair with `msg`
// (pieces of one with `pick`); `describe` and `joinList` take the same rule config.

const TYPE_ZH = {
  userTask: '用户任务',
  scriptTask: '脚本任务',
  serviceTask: '服务任务',
  businessRuleTask: '业务规则任务',
  callActivity: '调用活动',
  sequenceFlow: '顺序流',
  exclusiveGateway: '排他网关',
  parallelGateway: '并行网关',
  inclusiveGateway: '包容网关',
  eventBasedGateway: '事件网关',
  complexGateway: '复杂网关',
  boundaryEvent: '边界事件',
  startEvent: '开始事件',
  intermediateCatchEvent: '中间捕获事件',
  intermediateThrowEvent: '中间抛出事件',
  endEvent: '结束事件',
  subProcess: '子流程',
  transaction: '事务子流程',
  adHocSubProcess: '自由子流程',
  process: '流程',
  message: '消息',
  sendTask: '发送任务',
  receiveTask: '接收任务',
  manualTask: '手工任务',
  task: '任务',
  correlationProperty: '关联属性',
  lane: '泳道',
  participant: '参与者（泳池）',
  dataStore: '数据存储',
  dataStoreReference: '数据存储引用',
  dataObjectReference: '数据对象引用'
};

const TYPE_EN = {
  userTask: 'user task',
  scriptTask: 'script task',
  serviceTask: 'service task',
  businessRuleTask: 'business rule task',
  callActivity: 'call activity',
  sequenceFlow: 'sequence flow',
  exclusiveGateway: 'exclusive gateway',
  parallelGateway: 'parallel gateway',
  inclusiveGateway: 'inclusive gateway',
  eventBasedGateway: 'event-based gateway',
  complexGateway: 'complex gateway',
  boundaryEvent: 'boundary event',
  startEvent: 'start event',
  intermediateCatchEvent: 'intermediate catch event',
  intermediateThrowEvent: 'intermediate throw event',
  endEvent: 'end event',
  subProcess: 'sub-process',
  transaction: 'transaction',
  adHocSubProcess: 'ad-hoc sub-process',
  process: 'process',
  message: 'message',
  sendTask: 'send task',
  receiveTask: 'receive task',
  manualTask: 'manual task',
  task: 'task',
  correlationProperty: 'correlation property',
  lane: 'lane',
  participant: 'participant (pool)',
  dataStore: 'data store',
  dataStoreReference: 'data store reference',
  dataObjectReference: 'data object reference'
};

/** The role keys lanes may be named after (app/services/definitions.py LANE_ROLES). */
export const DEFAULT_ROLES = [ 'enterprise', 'window', 'reviewer', 'inspector', 'leader' ];

export function is(element, type) {
  return !!element && typeof element.$instanceOf === 'function' && element.$instanceOf(type);
}

export function isAny(element, types) {
  return types.some((type) => is(element, type));
}

/** Local name of a moddle element's type, as in the XML: `bpmn:UserTask` -> `userTask`. */
export function localName(element) {
  const type = (element && element.$type) || '';
  const name = type.includes(':') ? type.split(':')[1] : type;
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** The language of a rule's messages: "en" when its `locale` option is English, else "zh". */
export function localeOf(config) {
  const locale = typeof config === 'string' ? config : config && config.locale;
  return typeof locale === 'string' && locale.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

/**
 * A message in the rule's language, written once as a pair:
 *   msg(config, `${who}没有脚本内容。请填写 Python 脚本。`, `${who} has no script. Enter a Python script.`)
 * The English text gets a capital first letter (it often starts with `describe`).
 */
export function msg(config, zh, en) {
  const text = pick(config, zh, en);
  return localeOf(config) === 'en' ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** A piece of a message in the rule's language (as written: no capital added). */
export function pick(config, zh, en) {
  return localeOf(config) === 'en' ? en : zh;
}

/**
 * How messages name an element, like the server's `describe`: 用户任务「审核」（review）, in
 * English user task "Review" (review).
 */
export function describe(element, config) {
  const local = localName(element);
  const id = element && element.id;
  // names drawn on several lines in the diagram, on one line (validation_bpmn.one_line)
  const name = element && typeof element.name === 'string' ? element.name.split(/\s+/).filter(Boolean).join(' ') : '';
  if (localeOf(config) === 'en') {
    const kind = TYPE_EN[local] || local.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    return name ? `${kind} "${name}" (${id})` : `${kind} (${id})`;
  }
  const kind = TYPE_ZH[local] || local;
  return name ? `${kind}「${name}」（${id}）` : `${kind}（${id}）`;
}

/** A list in the rule's language: a、b (无) or a, b (none). */
export function joinList(values, config) {
  if (localeOf(config) === 'en') {
    return values.length ? values.join(', ') : 'none';
  }
  return values.length ? values.join('、') : '无';
}

/** The rule option list, or null when the modeler did not pass one (the check is skipped). */
export function optionList(config, name) {
  const value = config && config[name];
  if (!Array.isArray(value)) {
    return null;
  }
  return [ ...new Set(value.filter((v) => typeof v === 'string')) ].sort();
}

// --- generic access to (spiffworkflow) extension elements -------------------------------

function isSimpleType(type) {
  return [ 'String', 'Boolean', 'Integer', 'Real' ].includes(type);
}

/** Child elements of a moddle element, generic or typed. */
export function childrenOf(element) {
  if (!element || typeof element !== 'object') {
    return [];
  }
  if (Array.isArray(element.$children)) {
    return element.$children;
  }
  const descriptor = element.$descriptor;
  if (!descriptor || descriptor.isGeneric || !Array.isArray(descriptor.properties)) {
    return [];
  }
  const children = [];
  for (const property of descriptor.properties) {
    if (property.isAttr || property.isReference || property.isBody || isSimpleType(property.type)) {
      continue;
    }
    const value = element[property.name];
    if (Array.isArray(value)) {
      children.push(...value);
    } else if (value && typeof value === 'object') {
      children.push(value);
    }
  }
  return children.filter((child) => child && typeof child === 'object' && child.$type);
}

/** Text content of an element (`$body`, or the descriptor's body property). */
export function textOf(element) {
  if (!element || typeof element !== 'object') {
    return undefined;
  }
  if ('$body' in element) {
    return element.$body;
  }
  if ('body' in element && typeof element.body === 'string') {
    return element.body;
  }
  const descriptor = element.$descriptor;
  const body = descriptor && (descriptor.properties || []).find((p) => p.isBody);
  if (body) {
    return element[body.name];
  }
  return undefined;
}

/** An XML attribute of an element, declared in the descriptor or not. */
export function attrOf(element, name) {
  if (!element || typeof element !== 'object') {
    return undefined;
  }
  if (element.$attrs && element.$attrs[name] !== undefined) {
    return element.$attrs[name];
  }
  const value = element[name];
  if (typeof value === 'string') {
    return value;
  }
  if (value && typeof value === 'object' && typeof value.id === 'string') {
    return value.id; // a resolved reference
  }
  return undefined;
}

export function isSpiff(element, name) {
  const type = (element && element.$type) || '';
  const [ prefix, local ] = type.split(':');
  return prefix === 'spiffworkflow' && (local || '').toLowerCase() === name.toLowerCase();
}

/** Direct spiffworkflow children of an element's extensionElements. */
export function extensions(element, name) {
  const ext = element && element.extensionElements;
  const values = (ext && (ext.values || childrenOf(ext))) || [];
  return values.filter((value) => isSpiff(value, name));
}

/** Every descendant of `element` (depth first), including generic ones. */
export function descendants(element, found = []) {
  for (const child of childrenOf(element)) {
    found.push(child);
    descendants(child, found);
  }
  return found;
}

/** spiffworkflow:property name -> value of a task, as the parser reads them. */
export function spiffProperties(element) {
  const properties = {};
  for (const block of extensions(element, 'properties')) {
    for (const property of descendants(block)) {
      if (isSpiff(property, 'property')) {
        const name = attrOf(property, 'name');
        if (name !== undefined) {
          properties[name] = attrOf(property, 'value');
        }
      }
    }
  }
  return properties;
}

// --- sequence-flow graph -----------------------------------------------------------------

const NOT_NODES = [
  'bpmn:SequenceFlow',
  'bpmn:DataObject',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference'
];

/** Process, sub-process, transaction, ad-hoc sub-process: what holds flow elements. */
export function isContainer(element) {
  return isAny(element, [ 'bpmn:Process', 'bpmn:SubProcess' ]);
}

/**
 * The graph of one container, from the sequence flows' sourceRef/targetRef (not the nodes'
 * optional incoming/outgoing lists, which hand-written files often lack).
 */
export function graphOf(container) {
  const elements = container.flowElements || [];
  const nodes = elements.filter((el) => el && el.id && !isAny(el, NOT_NODES));
  const flows = elements.filter((el) => is(el, 'bpmn:SequenceFlow'));
  const ids = new Set(nodes.map((node) => node.id));
  const outgoing = new Map(nodes.map((node) => [ node.id, [] ]));
  const incoming = new Map(nodes.map((node) => [ node.id, [] ]));
  for (const flow of flows) {
    const source = flow.sourceRef && flow.sourceRef.id;
    const target = flow.targetRef && flow.targetRef.id;
    if (ids.has(source)) {
      outgoing.get(source).push(flow);
    }
    if (ids.has(target)) {
      incoming.get(target).push(flow);
    }
  }
  return { nodes, flows, ids, outgoing, incoming };
}

/** True when the flow carries a condition the parser sees (an element with text). */
export function hasCondition(flow) {
  const condition = flow && flow.conditionExpression;
  if (!condition) {
    return false;
  }
  const text = textOf(condition);
  return text !== undefined && text !== null && text !== '';
}

export function isDefaultFlow(source, flow) {
  const target = source && source['default'];
  if (!target) {
    return false;
  }
  return target === flow || target.id === flow.id || target === flow.id;
}

/** As the parser decides: a process without isExecutable counts as executable. */
export function isExecutableProcess(process) {
  return process.isExecutable !== false;
}

/** The process an element belongs to (null for definitions-level elements). */
export function processOf(element) {
  let node = element;
  while (node) {
    if (is(node, 'bpmn:Process')) {
      return node;
    }
    node = node.$parent;
  }
  return null;
}

/**
 * False for elements of a process marked isExecutable="false": the server checks only what the
 * engine would run (validation_bpmn.in_executable_scope).
 */
export function inExecutableScope(element) {
  const process = processOf(element);
  return !process || isExecutableProcess(process);
}
