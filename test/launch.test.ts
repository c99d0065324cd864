// launch/: every launch file and parameter YAML parses, and what it runs exists. XML files go through a small
// XML parser and their launch substitutions; Python files through python3's ast (no ROS install needed) with a
// tiny evaluator for the substitutions they use. The resulting command line is then run for real with
// `--check`, which loads the model and the parameters and checks every name against the node's declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parametersFromYaml } from '../src/ros/node/ros-args.ts';
import { buildConfig } from '../src/ros/node/params.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const LAUNCH = join(ROOT, 'launch');
const files = readdirSync(LAUNCH);

interface XmlElement { name: string; attributes: Record<string, string>; children: XmlElement[] }

/** A small, strict XML parser: declarations, comments, elements and quoted attributes (what launch files use). */
function parseXml(text: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    const line = text.slice(0, at).split('\n').length;
    throw new Error(`XML line ${line}: ${why}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (/\s/.test(text[at] ?? '')) at++;
      if (text.startsWith('<?', at)) at = text.indexOf('?>', at) + 2 || fail('unterminated declaration');
      else if (text.startsWith('<!--', at)) {
        const end = text.indexOf('-->', at);
        if (end < 0) fail('unterminated comment');
        if (text.slice(at + 4, end).includes('--')) fail('"--" inside a comment');
        at = end + 3;
      } else return;
    }
  };
  const element = (): XmlElement => {
    if (text[at] !== '<') fail('expected an element');
    const m = /^<([A-Za-z_][\w.-]*)/.exec(text.slice(at)) ?? fail('bad element name');
    at += m[0].length;
    const el: XmlElement = { name: m[1], attributes: {}, children: [] };
    for (;;) {
      while (/\s/.test(text[at])) at++;
      if (text.startsWith('/>', at)) { at += 2; return el; }
      if (text[at] === '>') { at++; break; }
      const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(text.slice(at)) ?? fail(`bad attribute in <${el.name}>`);
      if (a[1] in el.attributes) fail(`repeated attribute ${a[1]}`);
      el.attributes[a[1]] = (a[3] ?? a[4]).replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      at += a[0].length;
    }
    for (;;) {
      skipMisc();
      if (text.startsWith(`</${el.name}`, at)) {
        at += el.name.length + 2;
        while (/\s/.test(text[at])) at++;
        if (text[at] !== '>') fail(`bad closing tag of <${el.name}>`);
        at++;
        return el;
      }
      if (text[at] === '<') el.children.push(element());
      else if (at >= text.length) fail(`<${el.name}> not closed`);
      else {
        const end = text.indexOf('<', at);
        if (text.slice(at, end).trim() !== '') fail(`unexpected text in <${el.name}>`);
        at = end;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (at < text.length) fail('content after the root element');
  return root;
}

/** The launch XML substitutions these files use: $(var x), $(dirname), $(env NAME [default]). */
function substitute(value: string, vars: Record<string, string>, file: string): string {
  return value.replace(/\$\((\w+)(?:\s+([^)]*))?\)/g, (_, kind: string, rest = '') => {
    if (kind === 'var') {
      assert.ok(rest in vars, `${file}: $(var ${rest}) names no <arg>`);
      return vars[rest];
    }
    if (kind === 'dirname') return dirname(file);
    if (kind === 'env') {
      const [name, def] = rest.split(/\s+/);
      return process.env[name] ?? def ?? '';
    }
    throw new Error(`${file}: unsupported substitution $(${kind})`);
  });
}

const XML_TAGS = new Set(['launch', 'arg', 'executable', 'node', 'param', 'env', 'let', 'group', 'include', 'set_env', 'remap']);

/** Runs the command a launch file would run, with --check, and returns its output. */
function checkCommand(cmd: string[], file: string): string {
  assert.equal(cmd[0], 'node', `${file}: runs node`);
  assert.equal(resolve(cmd[1]), join(ROOT, 'bin', 'onestep.js'), `${file}: runs this checkout's onestep`);
  assert.equal(cmd[2], 'serve', `${file}: the serve command`);
  const ros = cmd.indexOf('--ros-args');
  const argv = ros < 0 ? [...cmd.slice(1), '--check'] : [...cmd.slice(1, ros), '--check', ...cmd.slice(ros)];
  try {
    return execFileSync('node', argv, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${file}: ${argv.join(' ')} failed: ${(err as { stderr: string }).stderr}`);
  }
}

test('launch/ has XML and Python launch files and parameter YAML', () => {
  assert.ok(files.some((f) => f.endsWith('.launch.xml')));
  assert.ok(files.some((f) => f.endsWith('.launch.py')));
  assert.ok(files.some((f) => f.endsWith('.yaml')));
});

for (const f of files.filter((x) => x.endsWith('.yaml'))) {
  test(`${f}: parses, every parameter exists and is well-typed`, () => {
    const text = readFileSync(join(LAUNCH, f), 'utf8');
    const params = parametersFromYaml(text, { name: 'policy_node', namespace: '/' }, f);
    assert.ok(params.size > 5);
    const config = buildConfig(params, f);
    assert.ok(config.sources.length > 0);
  });
}

for (const f of files.filter((x) => x.endsWith('.launch.xml'))) {
  test(`${f}: well-formed XML, known launch tags, and its command checks out`, () => {
    const file = join(LAUNCH, f);
    const root = parseXml(readFileSync(file, 'utf8'));
    assert.equal(root.name, 'launch');
    const vars: Record<string, string> = {};
    const walk = (el: XmlElement) => {
      assert.ok(XML_TAGS.has(el.name), `${f}: unknown launch tag <${el.name}>`);
      el.children.forEach(walk);
    };
    walk(root);
    for (const arg of root.children.filter((c) => c.name === 'arg')) {
      assert.ok(arg.attributes.name, `${f}: <arg> without a name`);
      vars[arg.attributes.name] = substitute(arg.attributes.default ?? '', vars, file);
    }
    const executables = root.children.filter((c) => c.name === 'executable');
    assert.ok(executables.length > 0, `${f}: runs something`);
    for (const ex of executables) {
      const cmd = substitute(ex.attributes.cmd, vars, file).split(/\s+/).filter((x) => x !== '');
      assert.match(checkCommand(cmd, f), /\nok\n$/);
    }
  });
}

// Evaluates the launch description statically: DeclareLaunchArgument defaults, ExecuteProcess cmd, and the
// substitutions ThisLaunchFileDir, PathJoinSubstitution, LaunchConfiguration, string lists (concatenation).
const PY_EVAL = String.raw`
import ast, json, os, sys
path = sys.argv[1]
tree = ast.parse(open(path).read(), path)
here = os.path.dirname(os.path.abspath(path))
known = {'launch': {'LaunchDescription'}, 'launch.actions': {'DeclareLaunchArgument', 'ExecuteProcess'},
         'launch.substitutions': {'LaunchConfiguration', 'PathJoinSubstitution', 'ThisLaunchFileDir'}}
for node in ast.walk(tree):
    if isinstance(node, ast.ImportFrom):
        for a in node.names:
            if node.module not in known or a.name not in known[node.module]:
                sys.exit(f'unknown import {node.module}.{a.name}')
names, defaults, cmds = {}, {}, []
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        names[node.targets[0].id] = node.value
def kw(call, key):
    return next((k.value for k in call.keywords if k.arg == key), None)
def ev(n):
    if isinstance(n, ast.Constant) and isinstance(n.value, str): return n.value
    if isinstance(n, ast.Name): return ev(names[n.id])
    if isinstance(n, ast.List): return ''.join(ev(e) for e in n.elts)
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
        f = n.func.id
        if f == 'ThisLaunchFileDir': return here
        if f == 'PathJoinSubstitution': return os.path.join(*[ev(e) for e in n.args[0].elts])
        if f == 'LaunchConfiguration': return ev(defaults[n.args[0].value])
    raise SystemExit(f'cannot evaluate {ast.dump(n)[:80]}')
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'DeclareLaunchArgument':
        defaults[node.args[0].value] = kw(node, 'default_value')
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'ExecuteProcess':
        cmds.append([ev(e) for e in kw(node, 'cmd').elts])
fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description']
if not fn: sys.exit('no generate_launch_description()')
print(json.dumps(cmds))
`;

for (const f of files.filter((x) => x.endsWith('.launch.py'))) {
  test(`${f}: valid Python (ast), known launch API, and its command checks out`, () => {
    const file = join(LAUNCH, f);
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', file]);
    const cmds = JSON.parse(execFileSync('python3', ['-c', PY_EVAL, file], { encoding: 'utf8' })) as string[][];
    assert.ok(cmds.length > 0, `${f}: runs something`);
    for (const cmd of cmds) assert.match(checkCommand(cmd, f), /\nok\n$/);
  });
}

test('the XML parser rejects what is not XML', () => {
  assert.throws(() => parseXml('<launch><arg name="a"></launch>'), /bad closing tag|not closed|bad element name/);
  assert.throws(() => parseXml('<launch a="1" a="2"/>'), /repeated attribute/);
  assert.throws(() => parseXml('<launch/><x/>'), /content after the root/);
});
