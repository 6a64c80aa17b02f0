// Partial results: a successful tool result that says it is incomplete, and the warning to attach to it.
/** The successful-result shape `detectPartial` reads; the SDK's `CallToolResult` fits it. */
export interface ToolResultLike {
  isError?: boolean | undefined;
  structuredContent?: Record<string, unknown> | undefined;
  _meta?: Record<string, unknown> | undefined;
}

function warningOf(result: ToolResultLike): string | undefined {
  const content = result.structuredContent;
  const warnings = content?.['warnings'];
  if (Array.isArray(warnings)) {
    const texts = warnings.filter((item): item is string => typeof item === 'string' && item.trim() !== '');
    if (texts.length > 0) return texts.join('; ');
  }
  const candidates = [
    content?.['warning'],
    content?.['partial_reason'],
    result._meta?.['partial'],
    result._meta?.['warning'],
  ];
  return candidates.find((value): value is string => typeof value === 'string' && value.trim() !== '');
}

/**
 * A successful result that says it is partial (`structuredContent.partial === true`,
 * `structuredContent.status === 'partial'`, or `_meta.partial`): seed 000's "return partial results
 * with warning". Returns the warning to attach, or undefined for a complete (or failed) result.
 */
export function detectPartial(result: ToolResultLike): { partial: true; warning: string } | undefined {
  if (result.isError === true) return undefined;
  const content = result.structuredContent;
  const status = content?.['status'];
  const metaPartial = result._meta?.['partial'];
  const flagged =
    content?.['partial'] === true ||
    (typeof status === 'string' && status.toLowerCase() === 'partial') ||
    metaPartial === true ||
    (typeof metaPartial === 'string' && metaPartial.trim() !== '');
  if (!flagged) return undefined;
  return { partial: true, warning: warningOf(result) ?? 'the tool returned a partial result' };
}
