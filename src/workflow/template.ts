// Splits a string into literal text and `{{ expression }}` parts; a `}}` inside the expression's own braces or strings does not end it.

export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `offset`: where the expression's text starts in the string (after `{{` and leading blanks). */
  | { kind: 'expression'; source: string; offset: number };

export interface ScannedTemplate {
  parts: TemplatePart[];
  /** The string is exactly one template (blanks around it allowed): its value keeps its type. */
  whole: boolean;
  problems: Array<{ offset: number; message: string }>;
}

/** Whether a string contains a template at all (the cheap test before scanning). */
export function hasTemplate(text: string): boolean {
  return text.includes('{{');
}

export function scanTemplate(text: string): ScannedTemplate {
  const parts: TemplatePart[] = [];
  const problems: ScannedTemplate['problems'] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf('{{', index);
    if (open < 0) {
      literal += text.slice(index);
      break;
    }
    literal += text.slice(index, open);
    const close = findClose(text, open + 2);
    if (close === undefined) {
      problems.push({ offset: open, message: 'template "{{" is not closed by "}}"' });
      literal += text.slice(open);
      break;
    }
    const raw = text.slice(open + 2, close);
    const leading = raw.length - raw.trimStart().length;
    const source = raw.trim();
    if (source === '') problems.push({ offset: open, message: 'empty template "{{ }}"' });
    if (literal) parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push({ kind: 'expression', source, offset: open + 2 + leading });
    index = close + 2;
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  const expressions = parts.filter((part) => part.kind === 'expression');
  const whole = expressions.length === 1 && parts.every((part) => part.kind === 'expression' || !part.text.trim());
  return { parts: whole ? expressions : parts, whole, problems };
}

/** The index of the `}}` closing a template whose expression starts at `start`, skipping strings and nested braces. */
export function findClose(text: string, start: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0 && text[index + 1] === '}') return index;
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}
