// Cheap, browser-side approximations of the server's expression checks
// (app/engine/sandbox.py compiles with RestrictedPython; we only look for what is obviously
// refused) and a port of SpiffWorkflow's timer literal parsers (TimerEventDefinition).

import { msg } from './util.js';

// [Chinese, English], as the server words them (validation_dmn._hint)
const HINT_SANDBOX = [
  '不允许 import、以下划线开头的名字或属性、exec/eval 等；只能使用流程变量和平台提供的函数',
  'No imports, no names or attributes starting with \'_\', no exec/eval; use only process variables ' +
  'and the helpers CreditFlow provides'
];
const HINT_SYNTAX = [
  '请检查 Python 语法：表达式是 Python，不是 FEEL 或 JUEL（${...}）',
  'Check the Python syntax: expressions are Python, not FEEL or JUEL (${...})'
];

/**
 * The code of a Python source with string literals blanked and comments removed; newlines
 * are kept so positions map to the same lines.
 */
export function codeOnly(source) {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') {
        i++;
      }
      continue;
    }
    if (c === '"' || c === '\'') {
      const triple = source.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < source.length && !source.startsWith(quote, j)) {
        if (!triple && source[j] === '\n') {
          break; // unterminated: the compiler will complain, not us
        }
        j += source[j] === '\\' ? 2 : 1;
      }
      const end = Math.min(source.length, j + quote.length);
      out += quote + source.slice(i + quote.length, j).replace(/[^\n]/g, ' ') + quote;
      i = end;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function lineAt(text, index) {
  return text.slice(0, index).split('\n').length;
}

/**
 * What the sandbox would obviously refuse in `source` ("exec" or "eval"):
 * `{ line, detail, hint }` (detail and hint: [Chinese, English]; hint null for an empty
 * expression) or null. Not a compiler: syntax errors other than FEEL/JUEL `$` are left to
 * the server's full validation.
 */
export function sandboxProblem(source, mode) {
  if (typeof source !== 'string') {
    return null;
  }
  if (mode === 'eval' && !source.trim()) {
    return { line: 1, detail: [ '为空，请填写表达式', 'is empty; fill it in' ], hint: null };
  }
  const code = codeOnly(source);
  const found = [];
  const dollar = code.indexOf('$');
  if (dollar >= 0) {
    found.push({ index: dollar, detail: [ '“$” 不是 Python 语法', '"$" is not Python syntax' ], hint: HINT_SYNTAX });
  }
  for (const match of code.matchAll(/(^|[^\w])(import)\b/g)) {
    found.push({
      index: match.index + match[1].length,
      detail: [ '不允许 import', 'import is not allowed' ],
      hint: HINT_SANDBOX
    });
  }
  for (const match of code.matchAll(/(^|[^\w.])(exec|eval)\s*\(/g)) {
    found.push({
      index: match.index + match[1].length,
      detail: [ `不允许调用 ${match[2]}`, `calling ${match[2]} is not allowed` ],
      hint: HINT_SANDBOX
    });
  }
  for (const match of code.matchAll(/(^|[^\w])(_\w*)/g)) {
    const before = code.slice(0, match.index + match[1].length).trimEnd();
    const attribute = before.endsWith('.');
    found.push({
      index: match.index + match[1].length,
      detail: [
        `“${match[2]}”是以下划线开头的${attribute ? '属性' : '名字'}`,
        `"${match[2]}" is an invalid ${attribute ? 'attribute' : 'variable'} name because it starts with "_"`
      ],
      hint: HINT_SANDBOX
    });
  }
  if (!found.length) {
    return null;
  }
  found.sort((a, b) => a.index - b.index);
  const first = found[0];
  return { line: lineAt(code, first.index), detail: first.detail, hint: first.hint };
}

/**
 * The server's sandbox message in the rule's language (`config.locale`), e.g.
 * 脚本任务（s）的脚本（第 1 行）无法通过沙箱编译：…。 / The script of script task (s) (line 1) is
 * refused by the sandbox: …. `who` and `label` are already in that language.
 */
export function sandboxMessage(config, who, label, problem) {
  const { line, detail, hint } = problem;
  return msg(
    config,
    `${who}的${label}（第 ${line} 行）无法通过沙箱编译：${detail[0]}${hint ? `。${hint[0]}` : ''}。`,
    hint ? `The ${label} of ${who} (line ${line}) is refused by the sandbox: ${detail[1]}. ${hint[1]}.`
      : `The ${label} of ${who} (line ${line}) ${detail[1]}.`
  );
}

// --- timers (ENGINE.md §4) ---------------------------------------------------------------

/** An unquoted ISO literal (validation_bpmn.ISO_LITERAL). */
export const ISO_LITERAL =
  /^(R\d*\/\S+|P(?=[\dT])[\d.,YMWDTHS]*|\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?)$/i;

/**
 * The value of a Python constant expression: `{ value }` (a string, or a non-string marker),
 * or null when the expression is not a constant (a variable, an f-string, a call…).
 */
export function pythonConstant(expression) {
  const text = expression.trim();
  const string = /^[uU]?(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')$/.exec(text);
  if (string) {
    const body = string[1] !== undefined ? string[1] : string[2];
    return { value: body.replace(/\\(.)/g, '$1') };
  }
  const raw = /^[rR](?:"([^"\n]*)"|'([^'\n]*)')$/.exec(text);
  if (raw) {
    return { value: raw[1] !== undefined ? raw[1] : raw[2] };
  }
  if (/^[+-]?(\d[\d_]*\.?\d*([eE][+-]?\d+)?|True|False|None)$/.test(text)) {
    return { value: { notString: text } };
  }
  return null;
}

function isDigits(text) {
  return /^\d+$/.test(text);
}

function stripChars(text, chars) {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start])) {
    start++;
  }
  while (end > start && chars.includes(text[end - 1])) {
    end--;
  }
  return text.slice(start, end);
}

/** TimerEventDefinition.parse_iso_duration: a dict of parts, or throws. */
export function parseIsoDuration(expression) {
  const parsed = {};
  let exprT = false;
  let current = stripChars(expression.toLowerCase(), 'p').replace(/,/g, '.');
  for (const designator of [ 'years', 'months', 'weeks', 'days', 't', 'hours', 'minutes', 'seconds' ]) {
    const at = current.indexOf(designator[0]);
    if (at >= 0) {
      const duration = current.slice(0, at);
      const remainder = current.slice(at + 1);
      if (isDigits(duration)) {
        parsed[designator] = parseInt(duration, 10);
      } else if (isDigits(duration.replace(/\./g, '')) && !remainder) {
        parsed[designator] = parseFloat(duration);
      }
      if (designator in parsed || designator === 't') {
        current = remainder;
      }
      if (designator === 't') {
        exprT = true;
      }
    }
  }
  const timeParts = [ 'hours', 'minutes', 'seconds' ].some((d) => d in parsed);
  const dateParts = [ 'years', 'months', 'days' ].some((d) => d in parsed);
  if (current.length || timeParts !== exprT || ('weeks' in parsed && dateParts)) {
    throw new Error('Invalid duration');
  }
  return parsed;
}

const DATETIME = new RegExp(
  '^(\\d{4})-?(\\d{2})-?(\\d{2})' +
  '(?:[^\\d](\\d{2})(?::?(\\d{2})(?::?(\\d{2})(?:[.,]\\d{1,6})?)?)?' +
  '(Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2}(?:\\.\\d{1,6})?)?)?)?)?$'
);

/** datetime.fromisoformat, roughly: `{ aware }` or throws. */
export function parseIsoDatetime(text) {
  const match = DATETIME.exec(text);
  if (!match) {
    throw new Error('Invalid isoformat string');
  }
  const [ , year, month, day, hour = '0', minute = '0', second = '0', offset ] = match;
  const days = new Date(Date.UTC(+year, +month, 0)).getUTCDate();
  if (+month < 1 || +month > 12 || +day < 1 || +day > days || +hour > 23 || +minute > 59 ||
      +second > 59) {
    throw new Error('Invalid isoformat string');
  }
  return { aware: !!offset };
}

/** TimerEventDefinition.parse_time_or_duration: 'duration' | 'datetime', or throws. */
function timeOrDuration(text) {
  if (text.toUpperCase().startsWith('P')) {
    parseIsoDuration(text);
    return 'duration';
  }
  if (text.toUpperCase().includes('W')) {
    if (!/^\d{4}-?W\d{2}-?\d(T.+)?$/i.test(text)) {
      throw new Error('Invalid week date');
    }
    return 'datetime';
  }
  parseIsoDatetime(text);
  return 'datetime';
}

/** TimerEventDefinition.parse_iso_recurring_interval, without computing anything. */
function checkRecurring(text) {
  const components = stripChars(text.toUpperCase().replace(/--/g, '/'), 'R').split('/');
  if (components[0] && !isDigits(components[0])) {
    throw new Error('Invalid cycle count');
  }
  if (components.length < 2) {
    throw new Error('Invalid recurring interval');
  }
  const first = timeOrDuration(components[1]);
  const second = components.length === 3 ? timeOrDuration(components[2]) : null;
  const ok = (first === 'datetime' && second === 'duration') ||
    (first === 'duration' && (second === 'datetime' || second === null));
  if (!ok) {
    throw new Error('Invalid recurring interval');
  }
}

/** `_timer_value_ok`: is this literal value a valid timer of the given kind? */
export function timerValueOk(kind, value) {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    if (kind === 'timeDuration') {
      parseIsoDuration(value);
    } else if (kind === 'timeCycle') {
      checkRecurring(value);
    } else {
      return timeOrDuration(value) === 'datetime';
    }
  } catch (e) {
    return false;
  }
  return true;
}

/** `_naive_datetime`: does any '/'-part parse as a datetime without UTC offset? */
export function naiveDatetime(value) {
  return value.split('/').some((part) => {
    try {
      return !parseIsoDatetime(part).aware;
    } catch (e) {
      return false;
    }
  });
}

export const TIMER_EXAMPLES = {
  timeDuration: '"P5D"、"PT2H"',
  timeCycle: '"R2/P1D"',
  timeDate: '"2026-01-01T09:00:00+08:00"'
};

export const TIMER_EXAMPLES_EN = {
  timeDuration: '"P5D", "PT2H"',
  timeCycle: '"R2/P1D"',
  timeDate: '"2026-01-01T09:00:00+08:00"'
};
