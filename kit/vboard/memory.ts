/**
 * process.memory() for the virtual board: an estimate of the variables (JsVars) Espruino 2v29
 * would hold for the same program, following the interpreter's own storage rules
 * (src/jsvar.c, src/jsparse.c, src/jswrap_object.c of RELEASE_2V29) and calibrated against the
 * Linux build (tools/bench/memory.ts prints the calibration table).
 *
 * It walks what the image can reach (the global object, the runtime's timers, watches and
 * modules) and, unlike a plain object walk, the closures too: V8's own scope objects are read
 * through the inspector protocol (node:inspector, in-process and synchronous), and the image's
 * source is parsed (acorn) so that each closure scope is costed the way Espruino keeps it (every
 * parameter and local of the invocation, not only what V8 keeps). See README.md, "Memory".
 */
import { isRef, type Walk } from './memory-walk.ts';
import { MemoryScopes } from './memory-scopes.ts';

export { varLayout, type VarLayout } from './memory-layout.ts';
export { analyseSource, type StaticFn, type SourceInfo } from './memory-source.ts';
export { BASE_VARIABLES, type MemoryHost } from './memory-walk.ts';

export class MemoryModel extends MemoryScopes {
  // -------------------------------------------------------------- the runtime and built-ins

  /** the runtime's closure variables (read through one of its entry points) */
  protected runtimeVars(): Record<string, unknown> {
    const rt = this.host.runtime as Record<string, unknown>;
    const probe = ['timer', 'watch', 'data', 'drain'].map((k) => rt[k]).find((v) => typeof v === 'function') as Function | undefined;
    const vars: Record<string, unknown> = {};
    if (!probe || !this.inspectorOk) return vars;
    const view = this.safeInspect([probe])[0];
    if (view.scriptId !== null) (this.hostScripts ??= new Set()).add(view.scriptId);
    for (const s of view.scopes) if ((s.description || '').startsWith('Closure')) Object.assign(vars, s.object);
    return vars;
  }

  /** which scripts are the board's own: the runtime's, and that of any helper library it holds */
  protected findHostScripts(): void {
    if (this.hostScripts || !this.inspectorOk) return;
    const vars = this.runtimeVars();
    this.hostScripts ??= new Set();
    const probes: Function[] = [];
    for (const v of Object.values(vars)) {
      if (!isRef(v) || this.host.builtins.has(v)) continue;
      const f = Object.values(v as Record<string, unknown>).find((x) => typeof x === 'function') as Function | undefined;
      if (f && !this.host.builtins.has(f)) probes.push(f);
    }
    for (const view of probes.length ? this.safeInspect(probes) : []) {
      if (view.scriptId !== null && !this.src.fns.has(`${view.line}:${view.col}`)) this.hostScripts.add(view.scriptId);
    }
  }

  /** timers, watches and modules, which the runtime keeps in its closure (timers) and in `shared` */
  protected registries(w: Walk): void {
    if (!this.inspectorOk) return;
    this.findHostScripts();
    const vars = this.runtimeVars();
    const kind = 'timers, watches, modules';
    const timers = vars.timerCbs as Record<string, { fn: unknown; args?: unknown[] }> | undefined;
    if (isRef(timers)) {
      const repeats = new Map(this.host.timers().map((t) => [String(t.id), t.interval]));
      for (const id of Object.keys(timers)) {
        const t = timers[id];
        if (!t) continue;
        // an object in the timer list: time (and its value), cb; intr for an interval; args
        this.add(w, 5 + (repeats.get(id) ? 2 : 0), kind);
        this.add(w, this.value(w, t.fn, false), kind);
        const args = t.args ?? [];
        if (args.length) {
          this.add(w, 2, kind);
          for (const a of args) this.add(w, 1 + this.value(w, a, true), kind);
        }
      }
    }
    // watches and modules sit in the object the runtime's parts share (runtime.js `shared`)
    const shared = (isRef(vars.shared) ? vars.shared : {}) as Record<string, unknown>;
    const watches = shared.watchCbs as Record<string, { fn: unknown }> | undefined;
    if (isRef(watches)) {
      for (const id of Object.keys(watches)) {
        const wa = watches[id];
        if (!wa) continue;
        // an object in the watch list (pin, recur, edge, callback, state, lastTime...): 10,
        // measured on the Linux build (+2 with a debounce, which the runtime does not say)
        this.add(w, 10, kind);
        this.add(w, this.value(w, wa.fn, false), kind);
      }
    }
    const modules = shared.modules as Record<string, unknown> | undefined;
    const jsModules = (shared.jsModules ?? {}) as Record<string, boolean>;
    if (isRef(modules)) {
      for (const k of Object.keys(modules)) {
        const m = modules[k];
        if (!isRef(m)) continue;
        // its entry in the module list
        this.add(w, 2, kind);
        // a Storage module: its exports object, as any object of the program (its functions'
        // scope, the module's own, comes with them); a native one: built-in functions, free
        if (jsModules[k]) this.add(w, this.value(w, m, false), kind);
        else this.markModule(m);
      }
    }
  }

  /** a module object and the objects it holds are built in (their functions cost nothing) */
  protected markModule(m: object): void {
    const todo: object[] = [m];
    while (todo.length) {
      const o = todo.pop()!;
      if (this.nativeObjs.has(o)) continue;
      this.nativeObjs.add(o);
      for (const k of Object.getOwnPropertyNames(o)) {
        let v: unknown;
        try {
          v = Object.getOwnPropertyDescriptor(o, k)?.value;
        } catch {
          v = undefined;
        }
        if (isRef(v) && !this.host.builtins.has(v)) todo.push(v);
      }
    }
  }

  /** what the image added to built-in objects (root variables, E.on/Serial1.on listeners...) */
  protected builtinAdditions(w: Walk): void {
    for (const [o, known] of this.host.builtins) {
      let names: string[];
      try {
        names = Object.getOwnPropertyNames(o);
      } catch {
        continue;
      }
      if (names.length === known.size && names.every((k) => known.has(k))) continue;
      const root = this.rootNames.get(o);
      if (root) this.useRoot(root, 'entry');
      this.ownProps(w, o, (k) => known.has(k));
    }
  }
}
