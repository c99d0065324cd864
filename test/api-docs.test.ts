// Every item the library exports (package.json `exports` → src/api/*.ts) carries a TSDoc comment, and so does
// every public method, accessor and static of an exported class (a member may take its text from the interface
// it implements, as editors show it). Checked on the real export lists, resolved with the TypeScript compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './helpers/netns.ts';

const ENTRIES = ['index', 'ros', 'sim', 'data', 'train'].map((n) => join(REPO_ROOT, 'src/api', `${n}.ts`));

test('every export of onestep, onestep/ros, /sim, /data and /train, and every public method of an exported class, is documented', () => {
  const program = ts.createProgram(ENTRIES, {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true, noEmit: true, strict: true, skipLibCheck: true, types: ['node'],
  });
  const checker = program.getTypeChecker();
  const documented = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '';
  const missing: string[] = [];
  let checked = 0;
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const where = `onestep${entry.endsWith('index.ts') ? '' : `/${entry.split('/').pop()!.slice(0, -3)}`}`;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      checked++;
      if (!documented(symbol)) missing.push(`${where}: ${exported.name}`);
      if (!(symbol.flags & ts.SymbolFlags.Class)) continue;
      const members = [...checker.getDeclaredTypeOfSymbol(symbol).getProperties(), ...checker.getTypeOfSymbol(symbol).getProperties()];
      for (const member of members) {
        const decl = member.declarations?.[0];
        if (!decl || !decl.getSourceFile().fileName.startsWith(join(REPO_ROOT, 'src'))) continue; // inherited from Error, EventEmitter…
        if (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (!(member.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor))) continue;
        checked++;
        if (!documented(member)) missing.push(`${where}: ${exported.name}.${member.name}()`);
      }
    }
  }
  assert.ok(checked > 150, `checked ${checked} items`);
  assert.equal(missing.length, 0, `undocumented:\n${missing.join('\n')}`);
});
