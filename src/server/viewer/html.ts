// The HTML pieces every viewer page is made of: escaping, embedded JSON that cannot close its script, the document shell.

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or an attribute value as HTML: every character that could start markup is an entity. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

/**
 * `value` as JSON inside `<script type="application/json">`: every `<` becomes `\u003c` (so no `</script>` or `<!--`
 * in the data can end or bend the script), and the line separators JavaScript once refused are escaped too.
 */
export function embeddedJson(value: unknown): string {
  return JSON.stringify(value ?? null)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export interface PageParts {
  title: string;
  style: string;
  body: string;
  /** Inline scripts, in order; data is embedded beforehand with `dataScript`. */
  scripts?: readonly string[];
}

/** A `<script type="application/json">` holding `value`, read in the page with `JSON.parse(el.textContent)`. */
export function dataScript(id: string, value: unknown): string {
  return `<script type="application/json" id="${escapeHtml(id)}">${embeddedJson(value)}</script>`;
}

/** One self-contained document: inline style and scripts, no external resource of any kind. */
export function htmlDocument(parts: PageParts): string {
  const scripts = (parts.scripts ?? []).map((script) => `<script>${script}</script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="retrace">
<title>${escapeHtml(parts.title)}</title>
<style>${parts.style}</style>
</head>
<body>
${parts.body}
${scripts}
</body>
</html>
`;
}
