// CreditFlow's bpmnlint rule pack for the studio's live lint: the checks of the server's
// validation (app/engine/validation*.py) that can be made on one BPMN diagram in the browser,
// with the same messages in Chinese (default) or English (`locale: "en"`), plus a few of
// bpmnlint's own rules.
//
// Usage (assets/studio/index.js):
//   import { createLintConfig } from './lint/index.js';
//   const modeler = new BpmnModeler({ linting: { active: true,
//     bpmnlint: createLintConfig({ handlers, roles, formFiles, decisionIds, processIds, locale }) }, … });
//   modeler.get('linting').setLinterConfig(createLintConfig({ … }));  // when the draft changes
// Every context list is optional: without it, the checks needing it are skipped (roles default
// to the five CreditFlow role keys). Every rule also gets the `locale` option ("zh" or "en").

import businessRuleTask from './rules/business-rule-task.js';
import callActivity from './rules/call-activity.js';
import eventGatewayTimers from './rules/event-gateway-timers.js';
import executableProcess from './rules/executable-process.js';
import gatewayConditions from './rules/gateway-conditions.js';
import labelRequired from './rules/label-required.js';
import noDisconnected from './rules/no-disconnected.js';
import noGatewayLoop from './rules/no-gateway-loop.js';
import noImplicitSplit from './rules/no-implicit-split.js';
import notExecuted from './rules/not-executed.js';
import sandboxExpression from './rules/sandbox-expression.js';
import scriptTask from './rules/script-task.js';
import sequenceFlowRefs from './rules/sequence-flow-refs.js';
import serviceTask from './rules/service-task.js';
import startEvent from './rules/start-event.js';
import { timer, timerOffset } from './rules/timer.js';
import unsupportedElement from './rules/unsupported-element.js';
import userTaskForm from './rules/user-task-form.js';
import userTaskLane from './rules/user-task-lane.js';
import { recommendedRules } from './recommended.js';
import { DEFAULT_ROLES, localeOf } from './util.js';

export { DEFAULT_ROLES };

export const PLUGIN = 'creditflow';
const PACKAGE = `bpmnlint-plugin-${PLUGIN}`;

/** Our rules: name -> [factory, severity, context keys the rule reads (besides `locale`)]. */
export const RULES = {
  'unsupported-element': [ unsupportedElement, 'error', [] ],
  'executable-process': [ executableProcess, 'error', [] ],
  'not-executed': [ notExecuted, 'warn', [] ],
  'start-event': [ startEvent, 'error', [] ],
  'user-task-lane': [ userTaskLane, 'error', [ 'roles' ] ],
  'user-task-form': [ userTaskForm, 'error', [ 'formFiles' ] ],
  'service-task': [ serviceTask, 'error', [ 'handlers' ] ],
  'script-task': [ scriptTask, 'error', [] ],
  'business-rule-task': [ businessRuleTask, 'error', [ 'decisionIds' ] ],
  'call-activity': [ callActivity, 'error', [ 'processIds' ] ],
  'timer': [ timer, 'error', [] ],
  'timer-offset': [ timerOffset, 'warn', [] ],
  'gateway-conditions': [ gatewayConditions, 'error', [] ],
  'event-gateway-timers': [ eventGatewayTimers, 'error', [] ],
  'no-implicit-split': [ noImplicitSplit, 'error', [] ],
  'sequence-flow-refs': [ sequenceFlowRefs, 'error', [] ],
  'sandbox-expression': [ sandboxExpression, 'error', [] ],
  'no-gateway-loop': [ noGatewayLoop, 'warn', [] ],
  'no-disconnected': [ noDisconnected, 'warn', [] ],
  'label-required': [ labelRequired, 'warn', [] ]
};

/** bpmnlint's rules we reuse (with our Chinese or English messages), and their severity. */
export const RECOMMENDED = {
  'end-event-required': 'warn',
  'event-sub-process-typed-start-event': 'warn',
  'no-duplicate-sequence-flows': 'warn',
  'single-event-definition': 'warn'
};

export const resolver = {
  resolveRule(pkg, ruleName) {
    const rule = pkg === PACKAGE ? RULES[ruleName] && RULES[ruleName][0]
      : pkg === 'bpmnlint' ? recommendedRules[ruleName] : undefined;
    if (!rule) {
      throw new Error(`cannot resolve rule <${pkg}/${ruleName}>: not in the CreditFlow pack`);
    }
    return rule;
  },
  resolveConfig(pkg, configName) {
    throw new Error(`cannot resolve config <${configName}> in <${pkg}>: not bundled`);
  }
};

function names(value) {
  if (value === undefined || value === null) {
    return undefined;
  }
  return [ ...value ].map((v) => (v && typeof v === 'object' ? v.name || v.key || v.id : v))
    .filter((v) => typeof v === 'string');
}

/**
 * The `{ config, resolver }` for bpmn-js-bpmnlint's `linting.bpmnlint` option (or bpmnlint's
 * Linter), with the draft's run-time context:
 *   handlers     registered service handler names (or registry objects with `name`)
 *   roles        lane role keys (or objects with `key`); default: the five CreditFlow roles
 *   formFiles    the draft's file names (the .json ones are form files)
 *   decisionIds  decision ids of the draft's DMN files
 *   processIds   process ids of the draft's other .bpmn files (for call activities)
 *   locale       language of the messages: "zh" (default) or "en" (also "en-US", "zh-CN"…)
 */
export function createLintConfig(context = {}) {
  const options = {
    handlers: names(context.handlers),
    roles: names(context.roles) || [ ...DEFAULT_ROLES ],
    formFiles: names(context.formFiles),
    decisionIds: names(context.decisionIds),
    processIds: names(context.processIds)
  };
  const locale = localeOf(context.locale);
  const rules = {};
  for (const [ name, severity ] of Object.entries(RECOMMENDED)) {
    rules[name] = [ severity, { locale } ];
  }
  for (const [ name, [ , severity, keys ] ] of Object.entries(RULES)) {
    const ruleOptions = { locale };
    for (const key of keys) {
      if (options[key] !== undefined) {
        ruleOptions[key] = options[key];
      }
    }
    rules[`${PLUGIN}/${name}`] = [ severity, ruleOptions ];
  }
  return { config: { rules }, resolver };
}

const bundle = createLintConfig();

export const config = bundle.config;
export default bundle;
