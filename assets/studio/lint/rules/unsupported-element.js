// Elements the engine refuses or silently ignores, inside executable processes
// (app/engine/validation_support.py KINDS, same wording): complex gateways, transactions and
// cancel events, compensation, link events, event definitions the parser ignores, data
// stores, task ioSpecifications, data associations it cannot resolve, loops without limit,
// instantiating receive tasks, sub-processes without exactly one start event or an end event.
// Implicit splits are `no-implicit-split`; multi-instance settings are not checked here
// (bpmn-moddle drops a loopDataInputRef that names a variable, so it cannot be seen).

import { describe, inExecutableScope, is, isAny, localName, msg } from '../util.js';

// kind -> { zh: [label, why], en: [label, why] }, worded as validation_support.KINDS.
const KINDS = {
  complexGateway: {
    zh: [ '复杂网关（complexGateway）', '引擎不支持复杂网关。请改用排他、包容或并行网关。' ],
    en: [ 'complex gateway', 'The engine does not support complex gateways. Use an exclusive, inclusive or parallel gateway.' ]
  },
  transaction: {
    zh: [
      '事务（transaction / 取消事件）',
      '引擎不支持事务子流程和取消事件（没有事务、补偿语义）。请改用普通子流程和错误事件。'
    ],
    en: [
      'transaction or cancel event',
      'The engine does not support transaction subprocesses or cancel events (no transaction or ' +
      'compensation semantics). Use a plain subprocess and error events.'
    ]
  },
  compensation: {
    zh: [
      '补偿（compensation）',
      '引擎不支持补偿：补偿事件不会触发，补偿活动不会执行。请用显式的顺序流和服务任务实现撤销。'
    ],
    en: [
      'compensation',
      'The engine does not support compensation: compensation events never fire and compensation ' +
      'activities never run. Model the undo steps with explicit flows.'
    ]
  },
  link: {
    zh: [ '链接事件（linkEventDefinition）', '引擎不支持链接事件，抛出的链接不会到达捕获端。请直接用顺序流连接。' ],
    en: [
      'link event',
      'The engine does not support link events; a thrown link never reaches its catch event. ' +
      'Connect the elements with a sequence flow.'
    ]
  },
  ignoredDefinition: {
    zh: [
      '被忽略的事件定义',
      '引擎忽略这种事件定义，把事件当作无类型事件处理，行为与图中不同。请改用引擎支持的事件类型。'
    ],
    en: [
      'ignored event definition',
      'The engine ignores this event definition and treats the event as a none event, which is not ' +
      'what the diagram says. Use an event type the engine supports.'
    ]
  },
  dataStore: {
    zh: [
      '数据存储（dataStore）',
      'CreditFlow 没有注册任何数据存储实现，解析器会拒绝包含数据存储的整个文件。' +
      '请删除数据存储及其引用，改用服务任务读写外部系统。'
    ],
    en: [
      'data store',
      'CreditFlow registers no data store implementation, so the parser refuses the whole file. ' +
      'Remove the data store and its references; use a service task instead.'
    ]
  },
  dataAssociation: {
    zh: [
      '数据关联（data association）',
      '引擎只能把数据关联连到同一流程（或上级流程）中的数据对象引用（dataObjectReference），' +
      '其他关联会被解析器拒绝。请删除这些关联，数据通过流程变量传递。'
    ],
    en: [
      'data association',
      'The engine only resolves data associations to a data object reference of the same (or an ' +
      'enclosing) process; the parser refuses the others. Remove them and pass data in process variables.'
    ]
  },
  ioSpecification: {
    zh: [
      '任务的输入输出规范（ioSpecification）',
      '引擎运行任务前要求任务数据里已有与每个 dataInput id 同名的变量，否则实例出错，' +
      '并且任务运行时只能看到这些变量；完成时同样要求每个 dataOutput。CreditFlow 通过流程' +
      '变量传递数据：请删除 ioSpecification。'
    ],
    en: [
      'task ioSpecification',
      'Before the task runs the engine requires a variable named after each dataInput id (the ' +
      'instance errors otherwise) and hides every other variable; on completion it requires each ' +
      'dataOutput. CreditFlow passes data in process variables: remove the ioSpecification.'
    ]
  },
  subprocessShape: {
    zh: [ '子流程的开始/结束事件', '引擎要求子流程恰好有一个开始事件，并至少有一个结束事件。' ],
    en: [
      'subprocess start/end events',
      'The engine requires exactly one start event and at least one end event in a subprocess.'
    ]
  },
  loopWithoutLimit: {
    zh: [
      '没有上限的循环（standardLoopCharacteristics）',
      '标准循环必须设置 loopMaximum 或 loopCondition，否则解析器拒绝它。'
    ],
    en: [
      'loop without limit',
      'A standard loop needs loopMaximum or a loopCondition; the parser refuses it otherwise.'
    ]
  },
  instantiatingReceive: {
    zh: [ '启动流程的接收任务（instantiate="true"）', '引擎不支持用接收任务启动流程。请改用消息开始事件。' ],
    en: [
      'instantiating receive task',
      'The engine cannot start a process with a receive task. Use a message start event.'
    ]
  }
};

// Event definitions the parser reads, per event kind (SpiffWorkflow 3.2 event_parsers.py).
const READ = {
  startEvent: [ 'message', 'signal', 'timer', 'conditional' ],
  endEvent: [ 'message', 'cancel', 'error', 'escalation', 'terminate' ],
  intermediateCatchEvent: [ 'message', 'signal', 'timer', 'conditional' ],
  intermediateThrowEvent: [ 'escalation', 'message', 'signal' ],
  boundaryEvent: [ 'cancel', 'error', 'escalation', 'message', 'signal', 'timer', 'conditional' ]
};
const DEFINITION_ZH = {
  message: '消息', signal: '信号', timer: '定时器', conditional: '条件', cancel: '取消', error: '错误',
  escalation: '升级', terminate: '终止', compensate: '补偿', link: '链接'
};
const EVENT_ZH = {
  startEvent: '开始事件', endEvent: '结束事件', intermediateCatchEvent: '中间捕获事件',
  intermediateThrowEvent: '中间抛出事件', boundaryEvent: '边界事件'
};

// Details are [Chinese, English] pairs: add(kind, [zh, en]).
function eventFindings(event, add) {
  const kind = localName(event);
  const read = READ[kind];
  if (!read) {
    return;
  }
  const definitions = (event.eventDefinitions || [])
    .map((d) => localName(d).replace(/EventDefinition$/, ''));
  for (const definition of definitions) {
    if (definition === 'compensate') {
      add('compensation', [ '补偿事件', 'compensation event' ]);
    } else if (definition === 'link') {
      add('link');
    } else if (definition === 'cancel') {
      add('transaction', [ '取消事件', 'cancel event' ]);
    } else if (!read.includes(definition)) {
      add('ignoredDefinition', [
        `${EVENT_ZH[kind]}上的${DEFINITION_ZH[definition] || definition}事件定义`,
        `${definition}EventDefinition on a ${kind}`
      ]);
    }
  }
  if ((event.eventDefinitionRef || []).length) {
    add('ignoredDefinition', [
      '通过 eventDefinitionRef 引用的事件定义',
      'an event definition referenced by eventDefinitionRef'
    ]);
  }
  if (kind === 'boundaryEvent' && !definitions.length) {
    add('ignoredDefinition', [ '边界事件没有事件定义', 'no event definition' ]);
  }
}

function containersOf(element) {
  const found = [];
  for (let node = element.$parent; node; node = node.$parent) {
    if (isAny(node, [ 'bpmn:Process', 'bpmn:SubProcess' ])) {
      found.push(node);
    }
  }
  return found;
}

function associationFindings(task, add) {
  const check = (association, refs) => {
    for (const ref of refs) {
      if (!ref || !ref.id) {
        continue; // an unresolved reference is dropped by bpmn-moddle
      }
      if (is(ref, 'bpmn:DataObjectReference')) {
        const object = ref.dataObjectRef;
        const local = containersOf(task).some((c) => (c.flowElements || []).includes(object));
        if (!local) {
          add('dataAssociation', [
            `${localName(association)} → ${ref.id}（数据对象不在本流程中）`,
            `${localName(association)} → ${ref.id} (data object not in this process)`
          ]);
        }
      } else {
        add('dataAssociation', [
          `${localName(association)} → ${ref.id}（${localName(ref)}）`,
          `${localName(association)} → ${ref.id} (${localName(ref)})`
        ]);
      }
    }
  };
  for (const association of task.dataInputAssociations || []) {
    check(association, association.sourceRef || []);
  }
  for (const association of task.dataOutputAssociations || []) {
    check(association, association.targetRef ? [ association.targetRef ] : []);
  }
}

function elementFindings(node, add) {
  if (is(node, 'bpmn:ComplexGateway')) {
    add('complexGateway');
  }
  if (is(node, 'bpmn:Transaction')) {
    add('transaction');
  }
  if (node.isForCompensation) {
    add('compensation', [ '补偿活动', 'compensation activity' ]);
  }
  if (is(node, 'bpmn:ReceiveTask') && node.instantiate) {
    add('instantiatingReceive');
  }
  const loop = node.loopCharacteristics;
  if (is(loop, 'bpmn:StandardLoopCharacteristics') &&
      (loop.loopMaximum === undefined || loop.loopMaximum === null) && !loop.loopCondition) {
    add('loopWithoutLimit');
  }
  if (is(node, 'bpmn:SubProcess') && (localName(node) === 'subProcess' || localName(node) === 'transaction')) {
    const starts = (node.flowElements || []).filter((el) => is(el, 'bpmn:StartEvent')).length;
    if (starts !== 1) {
      add('subprocessShape', [ `有 ${starts} 个开始事件`, `${starts} start events` ]);
    }
    if (!(node.flowElements || []).some((el) => is(el, 'bpmn:EndEvent'))) {
      add('subprocessShape', [ '没有结束事件', 'no end event' ]);
    }
  }
  if (is(node, 'bpmn:Event')) {
    eventFindings(node, add);
  }
  if (is(node, 'bpmn:Activity') && !is(node, 'bpmn:SubProcess') && node.ioSpecification) {
    const io = node.ioSpecification;
    const names = [
      ...(io.inputSets || []).flatMap((set) => set.dataInputRefs || []),
      ...(io.outputSets || []).flatMap((set) => set.dataOutputRefs || [])
    ].map((ref) => ref && ref.id).filter(Boolean);
    if (names.length) {
      add('ioSpecification', [ `变量：${names.join('、')}`, `variables: ${names.join(', ')}` ]);
    }
  }
  if (is(node, 'bpmn:Activity')) {
    associationFindings(node, add);
  }
}

export default function unsupportedElement(config) {
  function check(node, reporter) {
    const isStore = is(node, 'bpmn:DataStore');
    if (!isStore && (!is(node, 'bpmn:FlowNode') || !inExecutableScope(node))) {
      return;
    }
    const found = new Map(); // kind -> [zh, en] details, one line per element and kind
    const add = (kind, detail) => {
      if (!found.has(kind)) {
        found.set(kind, []);
      }
      if (detail && !found.get(kind).some(([ zh ]) => zh === detail[0])) {
        found.get(kind).push(detail);
      }
    };
    if (isStore) {
      add('dataStore');
    } else {
      elementFindings(node, add);
    }
    const who = describe(node, config);
    for (const [ kind, details ] of found) {
      const { zh: [ label, why ], en: [ labelEn, whyEn ] } = KINDS[kind];
      const shown = details.length ? `（${details.map(([ zh ]) => zh).join('；')}）` : '';
      const shownEn = details.length ? ` (${details.map(([ , en ]) => en).join('; ')})` : '';
      reporter.report(node.id, msg(
        config,
        `${who}：${label}${shown}。${why}`,
        `${who}: ${labelEn}${shownEn}. ${whyEn}`
      ));
    }
  }

  return { check };
}
