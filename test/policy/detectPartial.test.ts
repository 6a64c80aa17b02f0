import { describe, expect, it } from 'vitest';
import { detectPartial } from '../../src/policy/detectPartial.js';

const defaultWarning = 'the tool returned a partial result';

describe('detectPartial', () => {
  it('flags structuredContent.partial === true', () => {
    expect(detectPartial({ structuredContent: { partial: true } })).toEqual({ partial: true, warning: defaultWarning });
  });

  it("flags structuredContent.status 'partial' in any case", () => {
    expect(detectPartial({ structuredContent: { status: 'partial' } })).toEqual({
      partial: true,
      warning: defaultWarning,
    });
    expect(detectPartial({ structuredContent: { status: 'PARTIAL' } })).toEqual({
      partial: true,
      warning: defaultWarning,
    });
  });

  it('flags _meta.partial set to true', () => {
    expect(detectPartial({ _meta: { partial: true } })).toEqual({ partial: true, warning: defaultWarning });
  });

  it('flags _meta.partial given as text and uses that text as the warning', () => {
    expect(detectPartial({ _meta: { partial: '3 of 5 pages' } })).toEqual({ partial: true, warning: '3 of 5 pages' });
  });

  it('does not flag a plain success', () => {
    expect(detectPartial({})).toBeUndefined();
    expect(detectPartial({ isError: false, structuredContent: { status: 'ok', rows: [1, 2] } })).toBeUndefined();
  });

  it('does not flag values that only look like the markers', () => {
    expect(detectPartial({ structuredContent: { partial: 'true' } })).toBeUndefined();
    expect(detectPartial({ structuredContent: { partial: false, status: 'partially done' } })).toBeUndefined();
    expect(detectPartial({ _meta: { partial: false } })).toBeUndefined();
    expect(detectPartial({ _meta: { partial: '  ' } })).toBeUndefined();
  });

  it('does not flag a failed result, whatever it says', () => {
    expect(detectPartial({ isError: true, structuredContent: { partial: true }, _meta: { partial: true } })).toBe(
      undefined,
    );
  });

  it('joins the non-empty text warnings and prefers them to a single warning', () => {
    expect(
      detectPartial({ structuredContent: { partial: true, warnings: ['a', '', 7, 'b'], warning: 'single' } }),
    ).toEqual({ partial: true, warning: 'a; b' });
  });

  it('takes the warning, then partial_reason, then _meta.partial, then _meta.warning', () => {
    const content = { partial: true, warning: 'w', partial_reason: 'r' };
    expect(detectPartial({ structuredContent: content, _meta: { partial: 'm', warning: 'mw' } })?.warning).toBe('w');
    expect(detectPartial({ structuredContent: { partial: true, partial_reason: 'r' } })?.warning).toBe('r');
    expect(
      detectPartial({ structuredContent: { partial: true, warnings: [] }, _meta: { partial: 'm' } })?.warning,
    ).toBe('m');
    expect(detectPartial({ _meta: { partial: true, warning: 'mw' } })?.warning).toBe('mw');
  });

  it('skips blank warnings', () => {
    expect(detectPartial({ structuredContent: { partial: true, warning: ' ', partial_reason: 'r' } })?.warning).toBe(
      'r',
    );
  });
});
