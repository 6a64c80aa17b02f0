// Splits a shell_command string into argv words the way a shell would quote them, without running a shell.
import { findClose } from './template.js';

export interface SplitCommand {
  words: string[];
  problems: Array<{ offset: number; message: string }>;
}

const operators = new Set(['|', '&', ';', '<', '>', '(', ')', '`']);

/**
 * Words are separated by blanks; `'…'` is literal, `"…"` allows `\"` and `\\`, a backslash outside quotes
 * escapes the next character, and a `{{ … }}` template stays inside its word (its value becomes part of that
 * one argument, never split again). Pipes, redirections and `$VAR` would need a shell: they are refused.
 */
export function splitCommand(text: string): SplitCommand {
  const words: string[] = [];
  const problems: SplitCommand['problems'] = [];
  let word = '';
  let inWord = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === '{' && text[index + 1] === '{') {
      const close = findClose(text, index + 2);
      if (close === undefined) {
        problems.push({ offset: index, message: 'template "{{" is not closed by "}}"' });
        word += text.slice(index);
        break;
      }
      word += text.slice(index, close + 2);
      index = close + 1;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end < 0) {
        problems.push({ offset: index, message: 'unterminated single quote' });
        break;
      }
      word += text.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let end = index + 1;
      for (; end < text.length && text[end] !== '"'; end += 1) {
        if (text[end] === '\\' && end + 1 < text.length) end += 1;
        word += text[end] ?? '';
      }
      if (end >= text.length) {
        problems.push({ offset: index, message: 'unterminated double quote' });
        break;
      }
      index = end;
    } else if (char === '\\') {
      word += text[index + 1] ?? '';
      index += 1;
    } else if (operators.has(char) || (char === '$' && /[A-Za-z_{(]/.test(text[index + 1] ?? ''))) {
      const what =
        char === '$' ? `"$${text[index + 1] ?? ''}…" (no shell expands variables; use {{ env.NAME }})` : `"${char}"`;
      problems.push({
        offset: index,
        message: `${what} needs a shell, and commands run without one: write the command as a list, e.g. [sh, -c, "…"]`,
      });
      word += char;
    } else {
      word += char;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0 && problems.length === 0) problems.push({ offset: 0, message: 'the command is empty' });
  return { words, problems };
}
