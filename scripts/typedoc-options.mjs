// TypeDoc plugin: the reference's text for each connect() option comes from
// the option's own `doc` and `defaultDoc` in OPTIONS (src/options.ts), the
// one place an option is declared, rather than from a doc comment that could
// drift from it. Applies to the OPTIONS entries and to ConnectOptions, whose
// properties are mapped from them (found by name: the mapped properties keep
// no link to their entry). An option with a doc comment of its own keeps it.
import ts from 'typescript';
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';

/** The string a `doc:`/`defaultDoc:` initializer spells, with `${CONST}` spans filled from their literal types. */
function stringOf(checker, node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    let s = node.head.text;
    for (const span of node.templateSpans) {
      const t = checker.getTypeAtLocation(span.expression);
      s += t.isLiteral() ? String(t.value) : span.expression.getText();
      s += span.literal.text;
    }
    return s;
  }
  return undefined;
}

/** The `{ url, kind, defaultDoc, doc }` object of an OPTIONS entry, if `decl` is one. */
function specOf(decl) {
  if (!decl || !ts.isPropertyAssignment(decl)) return undefined;
  let init = decl.initializer;
  while (ts.isAsExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
  if (!ts.isObjectLiteralExpression(init)) return undefined;
  const owner = decl.parent?.parent;
  let ownerInit = owner;
  while (ownerInit && (ts.isAsExpression(ownerInit) || ts.isParenthesizedExpression(ownerInit))) ownerInit = ownerInit.parent;
  if (!ownerInit || !ts.isVariableDeclaration(ownerInit) || ownerInit.name.getText() !== 'OPTIONS') return undefined;
  const field = (name) => init.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === name)?.initializer;
  return { doc: field('doc'), defaultDoc: field('defaultDoc'), url: field('url') };
}

/** The OPTIONS entry named `name` (a PropertyAssignment), found in the program's src/options.ts. */
function entryByName(program, name) {
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.endsWith('/src/options.ts')) continue;
    let found;
    const visit = (node) => {
      if (found) return;
      if (ts.isVariableDeclaration(node) && node.name.getText() === 'OPTIONS') {
        let init = node.initializer;
        while (init && (ts.isAsExpression(init) || ts.isParenthesizedExpression(init))) init = init.expression;
        if (init && ts.isObjectLiteralExpression(init)) found = init.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === name);
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    return found;
  }
  return undefined;
}

export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Property) || reflection.comment) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const decl = symbol?.declarations?.[0] ?? (reflection.parent?.name === 'ConnectOptions' ? entryByName(context.program, reflection.name) : undefined);
    const spec = specOf(decl);
    if (!spec?.doc) return;
    const checker = context.checker;
    const doc = stringOf(checker, spec.doc);
    if (doc === undefined) return;
    const url = spec.url && stringOf(checker, spec.url);
    const comment = new Comment([{ kind: 'text', text: doc + (url ? ` URL: \`?${url}=\`.` : ' In code only (no URL key).') }]);
    const dflt = spec.defaultDoc && stringOf(checker, spec.defaultDoc);
    if (dflt) comment.blockTags.push(new CommentTag('@defaultValue', [{ kind: 'text', text: dflt }]));
    reflection.comment = comment;
  });
}
