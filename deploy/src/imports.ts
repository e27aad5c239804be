import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** How a module names another. */
export type ImportKind =
  | 'import'
  | 'import type'
  | 'export from'
  | 'dynamic import'
  | 'require'
  | 'import() type'
  | 'declare module'
  | 'reference types';

export interface ModuleImport {
  /** The importing file, relative to the repository, with `/`. */
  file: string;
  /** 1-based. */
  line: number;
  /** As written: `'../storage/store.js'`, `'fastify'`. */
  specifier: string;
  kind: ImportKind;
  /** A relative specifier: `target` is a file of this repository. */
  local: boolean;
  /**
   * What the specifier names: the repository file for a relative one (`.js`
   * read as the `.ts` it is compiled from, as NodeNext resolution has it), the
   * package for a bare one (`fastify`, `@chat/schema` for `@chat/schema/x`),
   * `node:<name>` for a Node built-in with or without its prefix.
   */
  target: string;
}

const BUILTINS = new Set(builtinModules);
const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

function resolveTarget(file: string, specifier: string, repo: string | undefined): { local: boolean; target: string } {
  if (specifier.startsWith('.')) {
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const compiled = joined.replace(/\.([cm]?)js$/, '.$1ts');
    // A real .js file (no .ts beside it) is itself the target.
    const target = compiled !== joined && repo !== undefined && existsSync(path.join(repo, joined)) && !existsSync(path.join(repo, compiled)) ? joined : compiled;
    return { local: true, target };
  }
  const bare = specifier.replace(/^node:/, '');
  if (specifier.startsWith('node:') || BUILTINS.has(bare)) return { local: false, target: `node:${bare}` };
  const parts = specifier.split('/');
  return { local: false, target: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

/**
 * Every module specifier in one source file: static imports (`import type`
 * told apart), `export … from`, dynamic `import('…')`, `require('…')`,
 * `import('…')` in a type, `declare module '…'` (an augmentation leans on
 * that module as much as an import does) and `/// <reference types>`. Only
 * string literals: a computed specifier names nothing that can be checked.
 *
 * The TypeScript parser rather than a regular expression, so specifiers in
 * comments and strings are not mistaken for imports, and multi-line import
 * lists cost nothing.
 */
export function importsOf(file: string, text: string, repo?: string): ModuleImport[] {
  const kind = /\.[cm]?js$/.test(file) ? ts.ScriptKind.JS : file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found: ModuleImport[] = [];
  const add = (at: number, specifier: string, how: ImportKind) => {
    const line = source.getLineAndCharacterOfPosition(at).line + 1;
    found.push({ file, line, specifier, kind: how, ...resolveTarget(file, specifier, repo) });
  };

  for (const ref of source.typeReferenceDirectives) add(ref.pos, ref.fileName, 'reference types');

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.importClause?.isTypeOnly === true;
      add(node.getStart(source), node.moduleSpecifier.text, typeOnly ? 'import type' : 'import');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.getStart(source), node.moduleSpecifier.text, 'export from');
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node.getStart(source), node.moduleReference.expression.text, 'require');
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const specifier = (node.arguments[0] as ts.StringLiteralLike).text;
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.getStart(source), specifier, 'dynamic import');
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node.getStart(source), specifier, 'require');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.getStart(source), node.argument.literal.text, 'import() type');
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      add(node.getStart(source), node.name.text, 'declare module');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The source files under `dir` (relative to `repo`), depth first, sorted; `node_modules` and `dist` skipped. */
export function sourceFiles(repo: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(repo, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(child);
      } else if (SOURCE.test(entry.name)) {
        out.push(child);
      }
    }
  };
  walk(dir);
  return out;
}

/** Every import of every source file under `dirs`. */
export function scanImports(repo: string, dirs: readonly string[]): { files: string[]; imports: ModuleImport[] } {
  const files = dirs.flatMap((dir) => sourceFiles(repo, dir));
  const imports = files.flatMap((file) => importsOf(file, readFileSync(path.join(repo, file), 'utf8'), repo));
  return { files, imports };
}
