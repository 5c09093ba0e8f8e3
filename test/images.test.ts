// The container images (engine/Dockerfile, operator/Dockerfile), checked without Docker: every file a Dockerfile
// copies exists in the build context (and .dockerignore keeps it), what the runtime stage copies from the build stage
// is what the build scripts write, the entrypoint and the native addon sit where the code looks for them, the user is
// numeric and non-root, the tags are the images the deployment manifests run, and every package the compiled code
// imports is a production dependency of its workspace (the images install only those). Needs `npm run build`.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { EMBEDDED_DEFAULT_CONFIG_YAML } from '../engine/src/core/config/config.js';
import { ENGINE_IMAGE_ENV } from '../operator/src/main.js';
import { ENGINE_UID } from '../operator/src/manifests/build.js';
import { DATA_DIR, HTTP_PORT, WAL_DIR } from '../operator/src/names.js';

const ROOT = resolve(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const readJson = (path: string): any => JSON.parse(read(path));

// ---- Dockerfile model ------------------------------------------------------------------------------------------

interface Placement {
  /** A path in the build context, or (with `from`) an absolute path in that stage. */
  src: string;
  /** The absolute path it lands at. */
  dst: string;
  from?: string;
}

interface Stage {
  name: string;
  base: string;
  /** Instruction order within the stage (COPY placements and RUN commands interleaved). */
  steps: Array<{ copy: Placement[] } | { run: string }>;
  workdir: string;
  user?: string;
  expose: string[];
  entrypoint?: unknown;
  cmd?: unknown;
}

interface Dockerfile {
  path: string;
  text: string;
  stages: Stage[];
}

/** Instructions with continuation lines joined; comment lines (also inside a continuation) dropped, as Docker does. */
function instructions(text: string): Array<{ keyword: string; args: string }> {
  const out: Array<{ keyword: string; args: string }> = [];
  let parts: string[] | undefined;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || (parts === undefined && line.trim() === '')) continue;
    parts ??= [];
    const continued = /\\\s*$/.exec(line);
    parts.push(continued ? line.slice(0, continued.index) : line);
    if (continued) continue;
    const joined = parts.join(' ').trim();
    parts = undefined;
    const space = joined.search(/\s/);
    out.push({ keyword: joined.slice(0, space).toUpperCase(), args: joined.slice(space).trim() });
  }
  expect(parts).toBeUndefined();
  return out;
}

/** COPY's placements: with several sources or a destination ending in `/`, each source lands inside it. */
function copyPlacements(args: string, workdir: string): Placement[] {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]!.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else expect(flag).toMatch(/^--(chown|chmod|link)\b/);
  }
  expect(words[0]!.startsWith('[')).toBe(false); // the JSON form is not used (and not modelled)
  const dest = words.pop()!;
  const destAbs = posix.resolve(workdir, dest);
  const intoDir = dest.endsWith('/') || words.length > 1;
  return words.map((src) => ({
    src: from === undefined ? posix.normalize(src) : src,
    dst: intoDir ? posix.join(destAbs, posix.basename(src)) : destAbs,
    ...(from !== undefined ? { from } : {}),
  }));
}

function dockerfile(path: string): Dockerfile {
  const text = read(path);
  const stages: Stage[] = [];
  for (const { keyword, args } of instructions(text)) {
    if (keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      expect(m).not.toBeNull();
      stages.push({ name: m![2] ?? String(stages.length), base: m![1]!, steps: [], workdir: '/', expose: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`${path}: ${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        break;
      case 'COPY':
        stage.steps.push({ copy: copyPlacements(args, stage.workdir) });
        break;
      case 'RUN':
        stage.steps.push({ run: args });
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'EXPOSE':
        stage.expose.push(...args.split(/\s+/));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = JSON.parse(args);
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args);
        break;
      case 'ENV':
      case 'ARG':
      case 'LABEL':
        break;
      default:
        throw new Error(`${path}: instruction ${keyword} is not modelled by this test`);
    }
  }
  return { path, text, stages };
}

const copies = (stage: Stage): Placement[] => stage.steps.flatMap((s) => ('copy' in s ? s.copy : []));
const runs = (stage: Stage): string[] => stage.steps.flatMap((s) => ('run' in s ? [s.run] : []));
const stageNamed = (df: Dockerfile, name: string): Stage => {
  const s = df.stages.find((x) => x.name === name);
  if (s === undefined) throw new Error(`${df.path}: no stage ${name}`);
  return s;
};

const GLOB: Record<string, string> = { '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' };

/** `.dockerignore` as Docker applies it: a path is excluded when it or one of its parents matches (last rule wins). */
function dockerignore(): (path: string) => boolean {
  const rules = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      const body = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((t) => GLOB[t] ?? t.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { negate, re: new RegExp(`^${body}$`) };
    });
  return (path) => {
    const segments = posix.normalize(path).split('/');
    for (let i = 1; i <= segments.length; i++) {
      const prefix = segments.slice(0, i).join('/');
      let excluded = false;
      for (const r of rules) if (r.re.test(prefix)) excluded = !r.negate;
      if (excluded) return true;
    }
    return false;
  };
}

/** The build stage mirrors the repository under its WORKDIR; the runtime stage under /app. Returns repo paths. */
function mirrored(df: Dockerfile, stage: Stage, root: string): Array<{ repoPath: string; from?: string }> {
  return copies(stage).map((p) => {
    let repoPath = p.src;
    if (p.from !== undefined) {
      const origin = stageNamed(df, p.from);
      expect([df.path, p.src.startsWith(`${origin.workdir}/`)]).toEqual([df.path, true]);
      repoPath = posix.relative(origin.workdir, p.src);
    }
    expect([df.path, p.dst]).toEqual([df.path, posix.join(root, repoPath)]);
    return { repoPath, ...(p.from !== undefined ? { from: p.from } : {}) };
  });
}

/** Whether `path` is `dir` or inside it. */
const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** The documented build command in the Dockerfile's header: `docker build -f <file> -t <tag> <context>`. */
function documentedBuild(df: Dockerfile): { file: string; tag: string; context: string } {
  const m = /docker build -f (\S+) -t (\S+) (\S+)/.exec(df.text);
  expect(m).not.toBeNull();
  return { file: m![1]!, tag: m![2]!, context: m![3]! };
}

// ---- build scripts ---------------------------------------------------------------------------------------------

/** A tsconfig with its `extends` chain resolved: the files it reads, its rootDir and outDir (repo paths). */
function tsProject(path: string): { files: string[]; rootDir: string; outDir: string; include: string[] } {
  const files: string[] = [];
  let rootDir: string | undefined;
  let outDir: string | undefined;
  let include: string[] | undefined;
  for (let p: string | undefined = path; p !== undefined; ) {
    files.push(p);
    const json = readJson(p);
    const dir = posix.dirname(p);
    rootDir ??= json.compilerOptions?.rootDir !== undefined ? posix.join(dir, json.compilerOptions.rootDir) : undefined;
    outDir ??= json.compilerOptions?.outDir !== undefined ? posix.join(dir, json.compilerOptions.outDir) : undefined;
    include ??= (json.include as string[] | undefined)?.map((i) => posix.join(dir, i));
    p = json.extends !== undefined ? posix.join(dir, json.extends) : undefined;
  }
  expect([path, rootDir, outDir, include]).toEqual([path, expect.any(String), expect.any(String), expect.any(Array)]);
  return { files, rootDir: rootDir!, outDir: outDir!, include: include! };
}

/** What a workspace's `build` script reads and writes: `node <script>` and `tsc -p <project>` steps. */
function buildScript(workspace: string): { inputs: string[]; tsc: ReturnType<typeof tsProject>; scripts: string[] } {
  const script: string = readJson(`${workspace}/package.json`).scripts.build;
  const scripts = [...script.matchAll(/\bnode (\S+)/g)].map((m) => posix.join(workspace, m[1]!));
  const projects = [...script.matchAll(/\btsc -p (\S+)/g)].map((m) => posix.join(workspace, m[1]!));
  expect([workspace, projects.length]).toEqual([workspace, 1]);
  const tsc = tsProject(projects[0]!);
  return { inputs: [...scripts, ...tsc.files, ...tsc.include], tsc, scripts };
}

/** engine/native/build.mjs: the C source it compiles and the addon it writes (repo paths). */
function nativeBuild(): { source: string; output: string } {
  const text = read('engine/native/build.mjs');
  const src = /const src = join\(here, '([^']+)'\)/.exec(text);
  const out = /const out = join\(here, ((?:'[^']+',?\s*)+)\)/.exec(text);
  expect([src, out]).toEqual([expect.anything(), expect.anything()]);
  const segments = [...out![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  return { source: posix.join('engine/native', src![1]!), output: posix.join('engine/native', ...segments) };
}

/** The compiled file of a source file under a tsc project. */
const compiled = (tsc: { rootDir: string; outDir: string }, source: string): string =>
  posix.join(tsc.outDir, posix.relative(tsc.rootDir, source)).replace(/\.ts$/, '.js');

const nodeMajor = (): number => Number(/^>=(\d+)\b/.exec(readJson('package.json').engines.node)![1]);

// ---- the checks both images share ------------------------------------------------------------------------------

const WORKSPACES: string[] = readJson('package.json').workspaces;
const MANIFESTS = ['package.json', 'package-lock.json', ...WORKSPACES.map((w) => `${w}/package.json`)];

/** The runtime stage's files by repository path, and the stage each comes from (undefined: the build context). */
const runtimeLayout = (df: Dockerfile): Map<string, string | undefined> =>
  new Map(mirrored(df, df.stages.at(-1)!, '/app').map((c) => [c.repoPath, c.from]));

function checkImage(df: Dockerfile, workspace: 'engine' | 'operator'): void {
  const path = df.path;
  const build = stageNamed(df, 'build');
  const deps = stageNamed(df, 'deps');
  const runtime = df.stages.at(-1)!;
  const ignored = dockerignore();

  // Bases: Node's major version from package.json's engines; build and runtime on the same Debian release (the
  // native addon and packages compiled at install time link against its glibc).
  const major = nodeMajor();
  expect([build.base, deps.base, runtime.base]).toEqual([`node:${major}-bookworm`, `node:${major}-bookworm`, `node:${major}-bookworm-slim`]);

  // Every file copied from the build context exists and is not excluded by .dockerignore.
  for (const stage of df.stages) {
    for (const p of copies(stage).filter((c) => c.from === undefined)) {
      expect([path, p.src, existsSync(join(ROOT, p.src))]).toEqual([path, p.src, true]);
      expect([path, p.src, ignored(p.src)]).toEqual([path, p.src, false]);
    }
  }

  // Build stage: the manifests come first (dependency layer), `npm install` (not `npm ci`, see bootstrap.sh), then
  // every file the workspace's build script reads, then the build.
  const buildCopied = mirrored(df, build, build.workdir).map((c) => c.repoPath);
  const covered = (stage: Stage, upTo: number, file: string): boolean =>
    stage.steps.slice(0, upTo).some((s) => 'copy' in s && s.copy.some((p) => p.from === undefined && within(file, p.src)));
  const stepOf = (stage: Stage, re: RegExp): number => stage.steps.findIndex((s) => 'run' in s && re.test(s.run));
  const install = stepOf(build, /\bnpm install\b/);
  const buildRun = stepOf(build, new RegExp(`\\bnpm run build (-w |--workspace[= ])${workspace}\\b`));
  expect([path, install >= 0, buildRun > install]).toEqual([path, true, true]);
  for (const m of [...MANIFESTS, 'tsconfig.base.json']) expect([path, m, covered(build, install, m)]).toEqual([path, m, true]);
  expect(runs(build).some((r) => /\bnpm ci\b/.test(r))).toBe(false);
  const script = buildScript(workspace);
  const inputs = workspace === 'engine' ? [...script.inputs, nativeBuild().source] : script.inputs;
  for (const input of inputs) {
    expect([path, input, covered(build, buildRun, input)]).toEqual([path, input, true]);
    expect([path, input, ignored(input)]).toEqual([path, input, false]);
  }
  expect(buildCopied.length).toBeGreaterThan(0);

  // Deps stage: the lockfile and every workspace's package.json (npm needs them all), the workspace's production
  // dependencies only.
  const depsCopied = mirrored(df, deps, deps.workdir).map((c) => c.repoPath);
  expect([...depsCopied].sort()).toEqual([...MANIFESTS].sort());
  const depsInstall = runs(deps).find((r) => /\bnpm install\b/.test(r)) ?? '';
  expect(depsInstall).toMatch(/--omit=dev\b/);
  expect(depsInstall).toMatch(new RegExp(`(--workspace[= ]|-w )${workspace}\\b`));
  expect(depsInstall).toMatch(/--include-workspace-root=false\b/);

  // Runtime stage: mirrors the repository under /app. Production node_modules from deps, the workspace's
  // package.json from the context ("type": "module"), its compiled output from the build stage.
  const layout = runtimeLayout(df);
  expect(layout.get('node_modules')).toBe('deps');
  expect(layout.has(`${workspace}/package.json`)).toBe(true);
  expect(layout.get(`${workspace}/package.json`)).toBeUndefined();
  expect(readJson(`${workspace}/package.json`).type).toBe('module');
  expect(layout.get(script.tsc.outDir)).toBe('build');
  expect(script.tsc.outDir).toBe(`${workspace}/dist`);
  for (const [repoPath, from] of layout) {
    if (from === 'build') expect([path, repoPath, buildProduces(workspace, repoPath)]).toEqual([path, repoPath, true]);
  }

  // The entrypoint: exec form (node is PID 1 and receives SIGTERM), the compiled main.ts, in the runtime layout.
  const entry = runtime.entrypoint as string[];
  expect(entry).toEqual(['node', `/app/${compiled(script.tsc, `${workspace}/src/main.ts`)}`]);
  expect(existsSync(join(ROOT, workspace, 'src/main.ts'))).toBe(true);
  const entryRepoPath = posix.relative('/app', entry[1]!);
  expect([...layout.keys()].some((k) => within(entryRepoPath, k) && layout.get(k) === 'build')).toBe(true);

  // A numeric, non-root user (runAsNonRoot can only verify a numeric one), created in the runtime stage.
  const user = /^(\d+):(\d+)$/.exec(runtime.user ?? '');
  expect([path, runtime.user, user !== null]).toEqual([path, runtime.user, true]);
  expect(Number(user![1])).toBeGreaterThan(0);
  expect(Number(user![2])).toBeGreaterThan(0);
  expect(runs(runtime).join('\n')).toMatch(new RegExp(`useradd\\b[^\\n]*--uid ${user![1]}\\b`));
}

/** Which runtime-stage copies from the build stage are outputs of the workspace's build (not sources). */
function buildProduces(workspace: string, repoPath: string): boolean {
  const { tsc } = buildScript(workspace);
  if (repoPath === tsc.outDir) return true;
  return workspace === 'engine' && repoPath === posix.dirname(nativeBuild().output);
}

// ---- (a) the Dockerfiles ---------------------------------------------------------------------------------------

describe('engine/Dockerfile', () => {
  const df = dockerfile('engine/Dockerfile');
  const runtime = df.stages.at(-1)!;

  it('copies existing, non-ignored files; builds, installs production dependencies and lays out /app like the repository', () => {
    checkImage(df, 'engine');
  });

  it('builds from the repository root and is tagged as the engine image the operator deploys', () => {
    const { file, tag, context } = documentedBuild(df);
    expect([file, context]).toEqual(['engine/Dockerfile', '.']);
    expect(tag).toBe(`strata/strata:${readJson('engine/package.json').version}`);
    expect(engineImages()).toEqual(engineImages().map(() => tag));
    expect(read('README.md')).toContain(`docker build -f engine/Dockerfile -t ${tag} .`);
  });

  it('ships the native addon where dist/core/util/native.js looks for it, and fails the build without it', () => {
    const { source, output } = nativeBuild();
    expect(existsSync(join(ROOT, source))).toBe(true);
    // native.ts resolves the addon relative to its own compiled file.
    const nativeTs = read('engine/src/core/util/native.ts');
    const rel = /new URL\('([^']+\.node)', import\.meta\.url\)/.exec(nativeTs);
    expect(rel).not.toBeNull();
    const { tsc } = buildScript('engine');
    const nativeJs = compiled(tsc, 'engine/src/core/util/native.ts');
    expect(nativeJs).toBe('engine/dist/core/util/native.js');
    expect(posix.join(posix.dirname(nativeJs), rel![1]!)).toBe(output);
    expect(output).toBe('engine/native/build/strata_native.node');
    // The runtime stage copies the addon's directory from the build stage, beside dist as in the repository.
    expect(runtimeLayout(df).get(posix.dirname(output))).toBe('build');
    expect(runs(stageNamed(df, 'build')).join('\n')).toContain(`test -f ${output}`);
    // The addon is built, not copied from the host: .dockerignore drops a host build.
    expect(dockerignore()(output)).toBe(true);
    // The build script runs build.mjs.
    expect(buildScript('engine').scripts).toContain('engine/native/build.mjs');
  });

  it('runs as 10001, the user the operator sets on engine pods, in the data directory', () => {
    expect(runtime.user).toBe(`${ENGINE_UID}:${ENGINE_UID}`);
    // The operator mounts storage at DATA_DIR and the WAL under it; the embedded default config's relative
    // paths (./data) land in the working directory, which the user owns.
    expect(runtime.workdir).toBe(DATA_DIR);
    expect(within(WAL_DIR, DATA_DIR)).toBe(true);
    expect(parse(EMBEDDED_DEFAULT_CONFIG_YAML).common.path_prefix).toMatch(/^\.\//);
    expect(runs(runtime).join('\n')).toMatch(new RegExp(`chown ${ENGINE_UID}:${ENGINE_UID} ${DATA_DIR}(\\s|$)`));
  });

  it('exposes the HTTP port and runs the single binary by default', () => {
    const defaults = parse(EMBEDDED_DEFAULT_CONFIG_YAML);
    expect(runtime.expose).toEqual([String(HTTP_PORT)]);
    expect(defaults.server.http_listen_port).toBe(HTTP_PORT);
    expect(runtime.cmd).toEqual([`-target=${defaults.target}`]);
  });

  it('leaves out the benchmarks, which import dev dependencies', () => {
    expect(runs(stageNamed(df, 'build')).join('\n')).toMatch(/rm -rf engine\/dist\/bench\b/);
  });
});

describe('operator/Dockerfile', () => {
  const df = dockerfile('operator/Dockerfile');
  const runtime = df.stages.at(-1)!;

  it('copies existing, non-ignored files; builds, installs production dependencies and lays out /app like the repository', () => {
    checkImage(df, 'operator');
  });

  it('builds from the repository root and is tagged as the operator image of config/ and the bundle', () => {
    const { file, tag, context } = documentedBuild(df);
    expect([file, context]).toEqual(['operator/Dockerfile', '.']);
    expect(tag).toBe(`strata/strata-operator:${readJson('operator/package.json').version}`);
    expect(operatorImages()).toEqual(operatorImages().map(() => tag));
    expect(read('README.md')).toContain(`docker build -f operator/Dockerfile -t ${tag} .`);
  });

  it('copies only node_modules, package.json and dist (no native addon), and exposes the ports of config/manager', () => {
    expect([...runtimeLayout(df).keys()].sort()).toEqual(['node_modules', 'operator/dist', 'operator/package.json']);
    const container = managerDeployment().spec.template.spec.containers[0];
    expect([...runtime.expose].sort()).toEqual(container.ports.map((p: any) => String(p.containerPort)).sort());
    expect(runtime.user).toBe('10001:10001');
    // config/manager sets runAsNonRoot without runAsUser: only the image's numeric USER satisfies it.
    expect(managerDeployment().spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(managerDeployment().spec.template.spec.securityContext.runAsUser).toBeUndefined();
  });
});

describe('.dockerignore', () => {
  it('keeps host installs and builds out of the build context', () => {
    const ignored = dockerignore();
    for (const p of ['.git', '.tmp', 'node_modules', 'engine/node_modules', 'engine/dist', 'operator/dist', 'engine/native/build', 'data'])
      expect([p, ignored(p)]).toEqual([p, true]);
    for (const p of ['engine/src/main.ts', 'engine/native/strata_native.c', 'operator/src/main.ts', 'package-lock.json'])
      expect([p, ignored(p)]).toEqual([p, false]);
  });
});

// ---- the images the manifests run ------------------------------------------------------------------------------

const CSV = 'bundle/manifests/strata-operator.clusterserviceversion.yaml';
const managerDeployment = (): any => read('config/manager/manager.yaml').split(/^---$/m).map((d) => parse(d)).find((d) => d?.kind === 'Deployment');
const csv = (): any => parse(read(CSV));
const csvDeployment = (): any => csv().spec.install.spec.deployments[0];
const envValue = (container: any): string => container.env.find((e: any) => e.name === ENGINE_IMAGE_ENV).value;

/** Every place the engine image is named: the operator's RELATED_IMAGE_STRATA (config/ and the CSV), relatedImages. */
function engineImages(): string[] {
  return [
    envValue(managerDeployment().spec.template.spec.containers[0]),
    envValue(csvDeployment().spec.template.spec.containers[0]),
    csv().spec.relatedImages.find((i: any) => i.name === 'strata').image,
  ];
}

/** Every place the operator image is named: config/manager, config/default's images list, the CSV. */
function operatorImages(): string[] {
  const kustomize = parse(read('config/default/kustomization.yaml')).images.find((i: any) => i.name === 'strata/strata-operator');
  return [
    managerDeployment().spec.template.spec.containers[0].image,
    `${kustomize.newName}:${kustomize.newTag}`,
    csvDeployment().spec.template.spec.containers[0].image,
    csv().metadata.annotations.containerImage,
    csv().spec.relatedImages.find((i: any) => i.name === 'strata-operator').image,
  ];
}

// ---- (b) runtime imports are production dependencies -------------------------------------------------------------

function jsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return jsFiles(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Loads {
  /** Module specifiers given as string literals. */
  specifiers: string[];
  /** Loads whose argument is not a literal (this test cannot check them): the argument's text. */
  dynamic: string[];
}

/** What a compiled ES module loads: static imports/re-exports, import('…'), and calls of createRequire(…). */
function loadsOf(js: string): Loads {
  // Drop block comments and whole-line comments (prose may say "import … from 'x'").
  const code = js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers: string[] = [];
  const dynamic: string[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"]+)\1/gm)) specifiers.push(m[2]!);
  for (const m of code.matchAll(/^\s*import\s*(['"])([^'"]+)\1/gm)) specifiers.push(m[2]!);
  const callers = ['import', ...[...code.matchAll(/\b(?:const|let|var)\s+(\w+)\s*=\s*createRequire\(/g)].map((m) => m[1]!)];
  const calls = [...callers.map((c) => `\\b${c}(?:\\.resolve)?`), 'createRequire\\([^()]*\\)'];
  for (const m of code.matchAll(new RegExp(`(?:${calls.join('|')})\\(\\s*([^)]*?)\\s*\\)`, 'g'))) {
    const arg = m[1]!;
    const literal = /^(['"])([^'"]+)\1$/.exec(arg);
    if (literal) specifiers.push(literal[2]!);
    else if (!/^import\.meta\.url$/.test(arg)) dynamic.push(arg);
  }
  return { specifiers, dynamic };
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier));

function checkDist(workspace: 'engine' | 'operator', skip: string[], expectedDynamic: string[]): void {
  const dist = `${workspace}/dist`;
  if (!existsSync(join(ROOT, dist, 'main.js'))) {
    throw new Error(`${dist}/main.js is missing: run \`npm run build\` first (npm test builds before running Jest)`);
  }
  const { tsc } = buildScript(workspace);
  const shipped = (p: string): boolean => !skip.some((s) => within(p, s));
  // A dist from an older tree would let a new import slip through.
  const stale = sourceFiles(`${workspace}/src`)
    .map((s) => compiled(tsc, s))
    .filter((js) => shipped(js) && !existsSync(join(ROOT, js)));
  expect([`${dist} is stale: run \`npm run build\``, stale]).toEqual([`${dist} is stale: run \`npm run build\``, []]);

  const pkg = readJson(`${workspace}/package.json`);
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const lock = readJson('package-lock.json');
  const missing: string[] = [];
  const dynamic: string[] = [];
  const files = jsFiles(dist).filter(shipped);
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) {
    const loads = loadsOf(read(file));
    dynamic.push(...loads.dynamic.map((d) => `${posix.relative(dist, file)}: ${d}`));
    for (const spec of loads.specifiers) {
      if (spec.startsWith('.')) {
        // Relative loads stay in the shipped part of dist.
        const target = posix.join(posix.dirname(file), spec);
        if (!within(target, dist) || !shipped(target) || !existsSync(join(ROOT, target))) missing.push(`${file}: ${spec} (not in the image)`);
      } else if (!isBuiltin(spec) && !dependencies.has(packageOf(spec))) {
        missing.push(`${file}: ${spec} (not in ${workspace}/package.json dependencies)`);
      }
    }
  }
  expect(missing).toEqual([]);
  // A non-literal load hides what it loads: each one is known and checked by hand.
  expect(dynamic.sort()).toEqual(expectedDynamic);
  // The deps stage installs from the lockfile with --omit=dev: every dependency must be a production package there.
  for (const dep of dependencies) {
    const entry = lock.packages[`node_modules/${dep}`];
    expect([dep, entry !== undefined && entry.dev !== true]).toEqual([dep, true]);
    expect([dep, lock.packages[workspace].dependencies[dep]]).toEqual([dep, pkg.dependencies[dep]]);
  }
}

describe('runtime imports of the compiled code are production dependencies', () => {
  it('engine/dist (without bench/, which the image leaves out)', () => {
    // native.js loads the addon by path (checked above).
    checkDist('engine', ['engine/dist/bench'], ['core/util/native.js: ADDON_PATH']);
    // The ring store clients are loaded lazily through createRequire: the scan sees those loads too.
    expect(loadsOf(read('engine/dist/core/ring/from-config.js')).specifiers).toEqual(
      expect.arrayContaining(['./etcd-kv.js', './kubernetes-kv.js', '@kubernetes/client-node']),
    );
  });

  it('operator/dist', () => {
    checkDist('operator', [], []);
  });

  it('finds every kind of load (checked on a sample)', () => {
    const sample = [
      "import 'reflect-metadata';",
      "import { a,\n  b } from '@aws-sdk/client-s3';",
      "export * from './x.js';",
      "// import x from 'commented-out';",
      "const m = await import('cbor-x/decode');",
      'const requireHere = createRequire(import.meta.url);',
      "const k = () => requireHere('@kubernetes/client-node');",
      'const addon = createRequire(import.meta.url)(ADDON_PATH);',
      "const r = requireHere.resolve('etcd3');",
    ].join('\n');
    expect(loadsOf(sample)).toEqual({
      specifiers: ['@aws-sdk/client-s3', './x.js', 'reflect-metadata', 'cbor-x/decode', '@kubernetes/client-node', 'etcd3'],
      dynamic: ['ADDON_PATH'],
    });
    expect(['@aws-sdk/client-s3', 'cbor-x/decode', 'node:fs', 'fs/promises'].map((s) => [packageOf(s), isBuiltin(s)])).toEqual([
      ['@aws-sdk/client-s3', false],
      ['cbor-x', false],
      ['node:fs', true],
      ['fs', true],
    ]);
  });
});
