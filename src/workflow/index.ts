// The workflow language: schema, loader, compiled form, expressions, computed fields, and the execution plan.
export {
  Workflow,
  Step,
  STEP_TYPES,
  StepDuration,
  ErrorStrategy,
  StateOperation,
  WorkflowLimits,
  ComputedField,
  InputSpec,
} from './workflowSchema.js';
export type { StepType, StateSchema, ValueType } from './workflowSchema.js';
export { checkWorkflowFile, loadWorkflow, parseWorkflowText } from './loadWorkflow.js';
export type { CheckedWorkflow, LoadWorkflowOptions } from './loadWorkflow.js';
export { childSteps, forEachStep } from './compiledWorkflow.js';
export type {
  CompiledCondition,
  CompiledErrorHandling,
  CompiledInput,
  CompiledStep,
  CompiledStepOf,
  CompiledWorkflow,
  ProblemSeverity,
  ValueTemplate,
  WorkflowProblem,
} from './compiledWorkflow.js';
export { compileExpression, defaultExpressionLimits, isTruthy, toPlainData } from './expression.js';
export type { CompiledExpression, EvaluationContext, ExpressionLimits } from './expression.js';
export type { RootReference } from './expressionReferences.js';
export { evaluateComputed, fieldsToRecompute, orderComputed, canonicalPath } from './computedGraph.js';
export type { ComputedFieldNode, ComputedGraph, ComputedTrace, EvaluateComputedOptions } from './computedGraph.js';
export { SCOPE_ROOTS, scopeDocument, valueAtPath } from './scope.js';
export type { ErrorInfo, StepRecord, WorkflowScope } from './scope.js';
export { evaluateCondition, renderValue } from './render.js';
export { parseInputPairs, resolveInputs } from './inputs.js';
export { splitCommand } from './commandWords.js';
export { explainWorkflow } from './explainPlan.js';
export type { ExecutionPlan, ExplainOptions, PlanStep, PlanTool } from './explainPlan.js';
export { formatWorstCase } from './worstCase.js';
export type { WorstCase } from './worstCase.js';
