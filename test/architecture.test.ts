// The design's layering, checked on the real import graph of src/ (every static, type-only, re-export and dynamic
// import, parsed with the TypeScript compiler): core (seeded RNG, latency windows) a leaf every folder may use,
// nn → algos → export, data (offline datasets) a leaf that algos may use, sim alone, format (the TF.js-free ONNX
// policy format: spec, metadata reader, graph builder) below both export and runtime, ros on runtime and format,
// cli and api (the library entries) on anything; no import cycles between files; and the optional native packages
// (rclnodejs, @tensorflow/tfjs-node, -gpu) reached only through dynamic import(), so a machine without them runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

type ImportKind = 'static' | 'type' | 'dynamic' | 'require';

interface Import {
  /** Importing file, relative to the repository root. */
  from: string;
  line: number;
  specifier: string;
  kind: ImportKind;
  /** The imported src/test file (relative to the root) for a relative specifier, else undefined. */
  target?: string;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** The string a specifier expression stands for: a literal, or a `const` in the same file initialised with one. */
function literalOf(expr: ts.Expression, consts: Map<string, string>): string | undefined {
  if (ts.isStringLiteralLike(expr)) return expr.text;
  if (ts.isIdentifier(expr)) return consts.get(expr.text);
  return undefined;
}

const importsOf = (file: string): Import[] => parseImports(file, readFileSync(join(ROOT, file), 'utf8'));

/** Every import in `text` (the file `file`). Dynamic imports whose specifier is not a known string (a parameter) are left out. */
function parseImports(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const consts = new Map<string, string>();
  const found: Omit<Import, 'from' | 'target'>[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isStringLiteralLike(node.initializer)) {
      if (ts.getCombinedNodeFlags(node) & ts.NodeFlags.Const) consts.set(node.name.text, node.initializer.text);
    }
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.importClause?.isTypeOnly === true || isAllTypeNamed(node.importClause?.namedBindings, node.importClause?.name);
      found.push({ line: lineOf(node), specifier: node.moduleSpecifier.text, kind: typeOnly ? 'type' : 'static' });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ line: lineOf(node), specifier: node.moduleSpecifier.text, kind: node.isTypeOnly ? 'type' : 'static' });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push({ line: lineOf(node), specifier: node.moduleReference.expression.text, kind: node.isTypeOnly ? 'type' : 'require' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ line: lineOf(node), specifier: node.argument.literal.text, kind: 'type' });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const isDynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamic || isRequire) {
        // consts are collected in source order; a specifier const declared later in the file is resolved in a second pass
        const specifier = literalOf(node.arguments[0], consts) ?? (ts.isIdentifier(node.arguments[0]) ? `\0${node.arguments[0].text}` : undefined);
        if (specifier !== undefined) found.push({ line: lineOf(node), specifier, kind: isDynamic ? 'dynamic' : 'require' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const out: Import[] = [];
  for (const imp of found) {
    const specifier = imp.specifier.startsWith('\0') ? consts.get(imp.specifier.slice(1)) : imp.specifier;
    if (specifier === undefined) continue; // import(pkg) with a parameter: nothing static to check
    const target = specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), specifier)) : undefined;
    out.push({ ...imp, from: file, specifier, target });
  }
  return out;
}

/** `import { type A, type B } from` imports only types, like `import type`. */
function isAllTypeNamed(bindings: ts.NamedImportBindings | undefined, defaultName: ts.Identifier | undefined): boolean {
  if (defaultName || !bindings || !ts.isNamedImports(bindings) || bindings.elements.length === 0) return false;
  return bindings.elements.every((e) => e.isTypeOnly);
}

const srcFiles = tsFiles('src');
const testFiles = tsFiles('test');
const srcImports = srcFiles.flatMap(importsOf);
const where = (i: Import) => `${i.from}:${i.line} ${i.kind} import of '${i.specifier}'`;

/** The capability folder of a file under src/. */
const folderOf = (file: string) => file.split('/')[1];
const SPEC = 'src/format/spec.ts';

/** The library entries (package.json `exports`) a serving process loads: the runtime and the ROS side. */
const LIGHT_ENTRIES = ['src/api/index.ts', 'src/api/ros.ts'];

/** May a file in folder `from` import `target` (a file under src/)? */
function allowed(from: string, target: string): boolean {
  const to = folderOf(target);
  if (from === to) return true;
  if (to === 'core') return true; // the shared leaf: every folder may use it
  switch (from) {
    case 'core':
      return false;
    case 'nn':
      return false;
    case 'algos':
      return to === 'nn' || to === 'data';
    case 'export':
      return to === 'nn' || to === 'algos' || to === 'format';
    case 'sim':
    case 'data':
    case 'format':
      return false;
    case 'runtime':
      return to === 'format';
    case 'ros':
      return to === 'runtime' || to === 'format';
    case 'cli':
    case 'api':
      return true;
    default:
      return false;
  }
}

test('src/ holds exactly the capability folders core, nn, algos, export, format, data, sim, runtime, ros, cli, api', () => {
  const folders = new Set(srcFiles.map((f) => (f.split('/').length > 2 ? folderOf(f) : `(file directly in src/: ${f})`)));
  assert.deepEqual([...folders].sort(), ['algos', 'api', 'cli', 'core', 'data', 'export', 'format', 'nn', 'ros', 'runtime', 'sim']);
});

test('every relative import resolves to a file in src/', () => {
  const files = new Set(srcFiles);
  const dangling = srcImports.filter((i) => i.target !== undefined && !files.has(i.target)).map(where);
  assert.deepEqual(dangling, []);
});

test('layering: core for all, nn → algos → export, data a leaf for algos, sim alone, format below export and runtime, ros on runtime, cli on anything', () => {
  const violations = srcImports
    .filter((i) => i.target !== undefined && i.target.startsWith('src/') && !allowed(folderOf(i.from), i.target))
    .map((i) => `${where(i)}: ${folderOf(i.from)} may not import ${i.target}`);
  assert.deepEqual(violations, []);
});

test('format/spec.ts is pure: runtime and ros reach no TF.js, ONNX protobuf or MuJoCo through it', () => {
  const imports = srcImports.filter((i) => i.from === SPEC && i.kind !== 'type').map(where);
  assert.deepEqual(imports, [], 'spec.ts imports nothing at run time');
});

test('runtime, ros and their library entries (onestep, onestep/ros) never load TF.js or mujoco-js statically, directly or through another file', () => {
  const byFile = new Map<string, Import[]>();
  for (const i of srcImports) byFile.set(i.from, [...(byFile.get(i.from) ?? []), i]);
  const heavy = /^(@tensorflow\/|mujoco-js)/;
  const violations: string[] = [];
  for (const root of srcFiles.filter((f) => ['runtime', 'ros'].includes(folderOf(f)) || LIGHT_ENTRIES.includes(f))) {
    // walk the static (load-time) imports only: a dynamic import() is paid for when the code asks for it
    const seen = new Set([root]);
    const stack: { file: string; via: string[] }[] = [{ file: root, via: [] }];
    while (stack.length > 0) {
      const { file, via } = stack.pop()!;
      for (const i of byFile.get(file) ?? []) {
        if (i.kind !== 'static' && i.kind !== 'require') continue;
        if (heavy.test(i.specifier)) violations.push(`${[...via, where(i)].join(' → ')}`);
        if (i.target && !seen.has(i.target)) {
          seen.add(i.target);
          stack.push({ file: i.target, via: [...via, `${i.from}:${i.line}`] });
        }
      }
    }
  }
  assert.deepEqual([...new Set(violations)], []);
});

/** The strongly connected components of a file graph that are cycles: two or more files, or a file importing itself (Tarjan). */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!order.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) !== order.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of edges.keys()) if (!order.has(v)) connect(v);
  return cycles;
}

test('cycle finder: finds a three-file loop and a self-import, not a diamond', () => {
  const graph = new Map<string, string[]>([
    ['a', ['b', 'c']],
    ['b', ['d']],
    ['c', ['d']],
    ['d', []],
    ['e', ['f']],
    ['f', ['g']],
    ['g', ['e', 'd']],
    ['h', ['h']],
  ]);
  assert.deepEqual(findCycles(graph), [['e', 'f', 'g'], ['h']]);
});

test('no import cycles between files in src/ (static, type-only and dynamic imports all count)', () => {
  const edges = new Map<string, Import[]>(srcFiles.map((f) => [f, []]));
  for (const i of srcImports) if (i.target && edges.has(i.target)) edges.get(i.from)!.push(i);
  const cycles = findCycles(new Map([...edges].map(([f, imports]) => [f, imports.map((i) => i.target!)])));
  // name the imports that close each cycle, file:line, so the report says what to cut
  const described = cycles.map((c) => {
    const members = new Set(c);
    const inside = c.flatMap((f) => edges.get(f)!.filter((i) => members.has(i.target!)).map(where));
    return `cycle through ${c.join(', ')}: ${inside.join('; ')}`;
  });
  assert.deepEqual(described, []);
});

test('rclnodejs and @tensorflow/tfjs-node(-gpu) are reached only through dynamic import(), in src/ and test/', () => {
  const optional = /^(rclnodejs|@tensorflow\/tfjs-node(-gpu)?)(\/|$)/;
  const all = [...srcImports, ...testFiles.flatMap(importsOf)];
  // type-only imports too: the packages are optional, so their types may be missing where tsc runs
  const violations = all.filter((i) => optional.test(i.specifier) && i.kind !== 'dynamic').map(where);
  assert.deepEqual(violations, []);
  // the check sees them: rclnodejs is imported, dynamically, by the rclnodejs transport
  assert.ok(all.some((i) => i.specifier === 'rclnodejs' && i.kind === 'dynamic' && i.from === 'src/ros/rclnodejs.ts'));
});

test('the import parser sees every kind of import (checked on a sample)', () => {
  const sample = [
    "import a from './a.ts';",
    "import type { B } from './b.ts';",
    "import { type C } from './c.ts';",
    "export { d } from './d.ts';",
    "const spec = './e.ts';",
    'const e = await import(spec);',
    "const f = require('f');",
    "let g: import('./g.ts').G;",
    'async function h(pkg: string) { return import(pkg); }',
  ].join('\n');
  const imports = parseImports('test/sample.ts', sample);
  assert.deepEqual(
    imports.map((i) => `${i.line} ${i.kind} ${i.specifier} ${i.target ?? '-'}`),
    [
      '1 static ./a.ts test/a.ts',
      '2 type ./b.ts test/b.ts',
      '3 type ./c.ts test/c.ts',
      '4 static ./d.ts test/d.ts',
      '6 dynamic ./e.ts test/e.ts',
      '7 require f -',
      '8 type ./g.ts test/g.ts',
    ],
  );
});

// --- dependencies: what package.json declares is what the code imports --------------------------------------------
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<'dependencies' | 'devDependencies' | 'peerDependencies', Record<string, string>>;
const BUILTINS = new Set(builtinModules);
/** The npm package a bare specifier names ('@scope/name/sub' → '@scope/name'), or undefined for node built-ins and relative paths. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

test('packageOf names the package of a specifier', () => {
  assert.deepEqual(['@tensorflow/tfjs-core', '@mcap/nodejs/x', 'onnxruntime-node/dist/binding.js', 'node:fs', 'fs/promises', './a.ts'].map(packageOf),
    ['@tensorflow/tfjs-core', '@mcap/nodejs', 'onnxruntime-node', undefined, undefined, undefined]);
});

test('src/ imports only its dependencies and optional peers, and every dependency is used by src/', () => {
  const runtime = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
  const undeclared = srcImports.filter((i) => { const p = packageOf(i.specifier); return p !== undefined && !runtime.has(p); }).map(where);
  assert.deepEqual(undeclared, [], 'a package src/ imports must be in dependencies (a devDependency is missing where onestep is installed)');
  // used: imported, or named as a string (createRequire(...).resolve('pkg/package.json'))
  const texts = srcFiles.map((f) => readFileSync(join(ROOT, f), 'utf8'));
  const unused = Object.keys(manifest.dependencies).filter((p) => !texts.some((t) => t.includes(`'${p}'`) || t.includes(`'${p}/`)));
  assert.deepEqual(unused, [], 'a dependency nothing in src/ uses belongs in devDependencies or nowhere');
});

test('tests, benchmarks, scripts and examples import only declared packages', () => {
  const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies), ...Object.keys(manifest.peerDependencies), 'onestep']);
  const files = ['test', 'bench', 'scripts', 'examples'].flatMap(tsFiles);
  const undeclared = files.flatMap(importsOf).filter((i) => { const p = packageOf(i.specifier); return p !== undefined && !declared.has(p); }).map(where);
  assert.deepEqual(undeclared, []);
});

test("the packages whose internals onestep uses (ONNX Runtime's synchronous binding, TF.js's cpu backend) are pinned exactly and installed at the pin", () => {
  const require = createRequire(import.meta.url);
  const internalsUsed = ['onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];
  for (const p of internalsUsed) {
    const pin = manifest.dependencies[p];
    assert.match(pin, /^\d+\.\d+\.\d+$/, `${p} is pinned to one version, not the range '${pin}'`);
    assert.equal((require(`${p}/package.json`) as { version: string }).version, pin, `${p} installed at its pin`);
  }
  for (const p of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    assert.equal(manifest.peerDependencies[p], manifest.dependencies['@tensorflow/tfjs-core'], `${p} must match tfjs-core (one TF.js version)`);
  }
});
