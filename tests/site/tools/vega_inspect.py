"""A browser-side helper for chart tests: compile a Vega-Lite spec and list its expressions.

``INSPECT_SPEC_JS`` defines ``inspectSpec(spec)`` in a page that has loaded the vendored
Vega and Vega-Lite bundles. It returns ``{warnings, expressions}``: what Vega-Lite logged
while compiling, and every expression of the compiled Vega spec with the identifiers and
string literals Vega's own parser finds in it (so a test can check that user strings
stay literals).
"""

INSPECT_SPEC_JS = """
const inspectSpec = (spec) => {
  const keys = new Set(['signal', 'expr', 'update', 'test', 'init']);
  const collect = (node, out) => {
    if (Array.isArray(node)) { node.forEach((item) => collect(item, out)); return out; }
    if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === 'string' && keys.has(key)) out.push(value);
        else collect(value, out);
      }
    }
    return out;
  };
  const names = (ast, acc) => {
    if (!ast || typeof ast !== 'object') return acc;
    if (ast.type === 'Identifier') acc.identifiers.push(ast.name);
    if (ast.type === 'Literal' && typeof ast.value === 'string') acc.literals.push(ast.value);
    Object.values(ast).forEach((value) => names(value, acc));
    return acc;
  };
  const warnings = [];
  const logger = {
    level() { return this; }, info() { return this; }, debug() { return this; },
    warn(...args) { warnings.push(args.join(' ')); return this; },
    error(...args) { warnings.push('error: ' + args.join(' ')); return this; },
  };
  const compiled = vegaLite.compile(spec, {logger}).spec;
  const expressions = collect(compiled, []).map((text) =>
    ({text, ...names(vega.parseExpression(text), {identifiers: [], literals: []})}));
  return {warnings, expressions};
};
"""
