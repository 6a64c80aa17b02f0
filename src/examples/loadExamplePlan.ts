// Reads the example server's plan file (YAML or JSON); every problem is reported as `file:line:col path: message`.
import { readFileSync } from 'node:fs';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { validate } from '../config/validate.js';
import { SourceProblemsError, parseYaml } from '../config/yamlErrors.js';
import { ExamplePlan } from './examplePlan.js';

/** Parses plan text (YAML, so JSON too); `file` names it in problems. Throws `RetraceError`. */
export function parseExamplePlan(text: string, file: string): ExamplePlan {
  const parsed = parseYaml(text, file);
  if (!parsed.usable) throw new SourceProblemsError(ErrorCode.configParse, parsed.problems);
  const result = validate(ExamplePlan, parsed.source.document.toJS() ?? {}, { file, source: parsed.source });
  const problems = [...parsed.problems, ...result.problems];
  if (!result.data || problems.length > 0) throw new SourceProblemsError(ErrorCode.config, problems);
  return result.data;
}

export function loadExamplePlan(file: string): ExamplePlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RetraceError(ErrorCode.config, `cannot read plan file: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  return parseExamplePlan(text, file);
}
