// JSON with sorted object keys, so equal arguments give equal cache keys whatever their key order.

/** Where a value sits inside the serialised root: property names and array indexes. */
type PathStep = string | number;

/**
 * Serialises `value` exactly as `JSON.stringify(value)` does, except that object keys are sorted:
 * `toJSON` is called (a Date becomes its ISO string, an invalid Date `null`), wrapper objects are
 * unwrapped, `undefined`, functions and symbols are left out of objects and written as `null` in
 * arrays, and `NaN` and `±Infinity` become `null`. A value met twice without a cycle
 * (`{ a: shared, b: shared }`) is written twice, as JSON.stringify does; like it, a Map or a Set
 * has no enumerable keys and is written as `{}`.
 *
 * Throws a TypeError naming the path where JSON.stringify would throw or give no string:
 * - a cycle (an object that contains itself on the path from the root);
 * - a bigint without a `toJSON`. Its string form would collide with the string or number of the same
 *   digits, and a cache key must never make two different calls equal, so it is refused;
 * - a root that has no JSON form (`undefined`, a function, a symbol).
 */
export function canonicalJson(value: unknown): string {
  const text = serialise('', value, new Set(), []);
  if (text === undefined) {
    throw new TypeError(`canonicalJson: the root value (${typeof value}) has no JSON form`);
  }
  return text;
}

/** JSON.stringify's SerializeJSONProperty (ECMA-262 25.5.2.2) with sorted keys; undefined means "no JSON form". */
function serialise(key: string, input: unknown, ancestors: Set<object>, path: PathStep[]): string | undefined {
  let value = input;
  if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = (toJSON as (key: string) => unknown).call(value, key);
  }
  if (value instanceof Number) value = Number(value);
  else if (value instanceof String) value = String(value);
  else if (value instanceof Boolean || value instanceof BigInt) value = value.valueOf();

  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      throw new TypeError(
        `canonicalJson: cannot serialise the bigint at ${formatPath(path)}; pass it as a string or a number`,
      );
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }

  const object = value as object;
  // Only the objects on the path from the root make a cycle; one seen earlier in a sibling branch does not.
  if (ancestors.has(object)) throw new TypeError(`canonicalJson: cyclic value at ${formatPath(path)}`);
  ancestors.add(object);
  let text: string;
  if (Array.isArray(object)) {
    const items: string[] = [];
    for (let index = 0; index < object.length; index += 1) {
      path.push(index);
      items.push(serialise(String(index), object[index] as unknown, ancestors, path) ?? 'null');
      path.pop();
    }
    text = `[${items.join(',')}]`;
  } else {
    const members: string[] = [];
    for (const name of Object.keys(object).sort()) {
      path.push(name);
      const member = serialise(name, (object as Record<string, unknown>)[name], ancestors, path);
      path.pop();
      if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`);
    }
    text = `{${members.join(',')}}`;
  }
  ancestors.delete(object);
  return text;
}

function formatPath(path: readonly PathStep[]): string {
  return path
    .map((step) =>
      typeof step === 'number'
        ? `[${step}]`
        : /^[A-Za-z_$][\w$]*$/.test(step)
          ? `.${step}`
          : `[${JSON.stringify(step)}]`,
    )
    .reduce((text, step) => text + step, '$');
}
