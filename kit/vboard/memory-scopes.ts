// The memory model's functions and their closure scopes: what V8 says of each function,
// matched to the source's scopes (memory.ts).
import { type StaticFn } from './memory-source.ts';
import { type FnView, inspectFunctions } from './memory-inspector.ts';
import { type Ctx, type FnRecord, closureScopes, MemoryWalk } from './memory-walk.ts';

export abstract class MemoryScopes extends MemoryWalk {
  protected abstract findHostScripts(): void;
  // -------------------------------------------------------------- functions and their scopes

  protected recordFunctions(fns: Function[], walkId: number): [Function, FnRecord][] {
    this.findHostScripts();
    const views = this.safeInspect(fns);
    return fns.map((f, i) => {
      const r = this.makeRecord(f, views[i], walkId);
      this.fns.set(f, r);
      return [f, r] as [Function, FnRecord];
    });
  }

  protected safeInspect(fns: Function[]): FnView[] {
    if (this.inspectorOk) {
      try {
        return inspectFunctions(fns);
      } catch {
        /* below */
      }
    }
    return fns.map(() => ({ scriptId: null, line: -1, col: -1, scopes: [], bound: null }));
  }

  protected makeRecord(f: Function, v: FnView, walkId: number): FnRecord {
    // a bound function: the function, \xFFths and the bound arguments
    if (v.bound) return { kind: 'bound', info: null, own: 3, chain: [], v8: [], bound: v.bound };
    if (v.scriptId !== null && this.hostScripts?.has(v.scriptId)) return { kind: 'builtin', info: null, own: 0, chain: [], v8: [], bound: null };
    let info: StaticFn | null = null;
    if (v.scriptId !== null && (this.imageScript === null || this.imageScript === v.scriptId)) {
      info = this.src.fns.get(`${v.line}:${v.col}`) ?? null;
      if (info && this.imageScript === null) this.imageScript = v.scriptId;
    }
    const v8Scopes = closureScopes(v.scopes);
    let own: number;
    if (info) own = this.staticFnVars(info);
    else {
      // code made at run time (eval, the REPL): kept in RAM
      own = 1 + f.length;
      let src = '';
      try {
        src = Function.prototype.toString.call(f);
      } catch {
        src = '';
      }
      const body = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}')).trim();
      if (body.length) own += 1 + this.strVars(body.length) + this.scopeRefVars(v8Scopes.length);
    }

    // match V8's scopes with the source's enclosing functions, innermost first: V8 keeps no
    // scope for a call none of whose variables a closure uses; Espruino keeps every one
    const parents = info ? info.parents : [];
    const order: { i: number; owner: StaticFn | null }[] = [];
    if (!(info && info.empty)) {
      let q = 0;
      this.matchScopes(v8Scopes, parents).forEach((hit, i) => {
        if (hit < 0) order.push({ i, owner: null });
        else {
          for (; q < hit; q++) order.push({ i: -1, owner: parents[q] });
          order.push({ i, owner: parents[hit] });
          q = hit + 1;
        }
      });
      for (; q < parents.length; q++) order.push({ i: -1, owner: parents[q] });
    }
    const chain: Ctx[] = new Array(order.length);
    const v8: (Ctx | null)[] = v8Scopes.map(() => null);
    let outer: Ctx | null = null;
    for (let k = order.length - 1; k >= 0; k--) {
      const { i, owner } = order[k];
      let c: Ctx;
      if (owner?.once) {
        c = this.onceCtx(owner);
        if (i >= 0) Object.assign(c, { values: v8Scopes[i], refreshed: walkId, noV8: false });
        if (!c.rep) c.rep = f;
      } else c = i >= 0 ? this.findCtx(owner, outer, v8Scopes[i], f, i, walkId) : this.findPhantom(owner!, outer, walkId);
      chain[k] = c;
      if (i >= 0) v8[i] = c;
      outer = c;
    }
    return { kind: info ? 'image' : 'ram', info, own, chain, v8, bound: null };
  }

  /** the scope of a function that runs once */
  protected onceCtx(owner: StaticFn): Ctx {
    let c = this.onceCtxs.get(owner);
    if (!c) this.onceCtxs.set(owner, (c = { owner, outer: null, values: null, rep: null, repIndex: -1, refreshed: 0, counted: 0, index: owner.key, once: true }));
    return c;
  }

  /**
   * A function of the image known by its source text whose enclosing functions all run once:
   * its scopes are known without asking V8 (only one function per scope is asked, for values).
   */
  protected quickRecord(f: Function): FnRecord | null {
    let text: string;
    try {
      text = Function.prototype.toString.call(f);
    } catch {
      return null;
    }
    const info = this.src.byText.get(text);
    if (!info || !info.singleChain) return null;
    const chain = info.empty ? [] : info.parents.map((p) => this.onceCtx(p));
    for (const c of chain) if (!c.rep) c.rep = f;
    const r: FnRecord = { kind: 'image', info, own: this.staticFnVars(info), chain, v8: [], bound: null };
    this.fns.set(f, r);
    return r;
  }

  /** match V8's closure scopes (innermost first) with a function's enclosing functions: index
   * into `parents` for each, -1 where none fits */
  protected matchScopes(v8Scopes: Record<string, unknown>[], parents: StaticFn[]): number[] {
    const out: number[] = [];
    let q = 0;
    for (const vals of v8Scopes) {
      const names = Object.keys(vals);
      let hit = -1;
      for (let k = q; k < parents.length; k++) {
        if (names.every((nm) => parents[k].locals.has(nm))) {
          hit = k;
          break;
        }
      }
      out.push(hit);
      if (hit >= 0) q = hit + 1;
    }
    return out;
  }

  protected indexCtx(c: Ctx): void {
    let set = this.ctxIndex.get(c.index);
    if (!set) this.ctxIndex.set(c.index, (set = new Set()));
    set.add(c);
  }

  /** the scope V8 shows as `vals`: a known one (same owner, same scope around it, same values) or a new one */
  protected findCtx(owner: StaticFn | null, outer: Ctx | null, vals: Record<string, unknown>, rep: Function, repIndex: number, walkId: number): Ctx {
    const names = Object.keys(vals);
    const index = owner ? owner.key : '?' + names.slice().sort().join(',');
    const list = [...(this.ctxIndex.get(index) ?? [])].filter((c) => c.outer === outer);
    const stale = list.filter((c) => c.values && c.refreshed !== walkId);
    if (stale.length) this.refresh(stale, walkId);
    for (const c of list) {
      const cv = c.values;
      if (cv && names.length === Object.keys(cv).length && names.every((k) => Object.prototype.hasOwnProperty.call(cv, k) && Object.is(cv[k], vals[k]))) return c;
    }
    // a scope first met through functions that do not use it is this one
    const ph = list.find((c) => !c.values);
    if (ph) {
      Object.assign(ph, { values: vals, rep, repIndex, refreshed: walkId });
      return ph;
    }
    const c: Ctx = { owner, outer, values: vals, rep, repIndex, refreshed: walkId, counted: 0, index };
    this.indexCtx(c);
    return c;
  }

  /** a call's scope V8 does not show: the known one with that owner around the same scope (a
   * function called once, as a module or class wrapper is), or a new one */
  protected findPhantom(owner: StaticFn, outer: Ctx | null, walkId: number): Ctx {
    for (const c of this.ctxIndex.get(owner.key) ?? []) if (c.outer === outer) return c;
    const c: Ctx = { owner, outer, values: null, rep: null, repIndex: -1, refreshed: walkId, counted: 0, index: owner.key };
    this.indexCtx(c);
    return c;
  }

  /** re-read the variables of these scopes (through a function that reaches each) */
  protected refresh(ctxs: Ctx[], walkId: number): void {
    this.refreshOnce(ctxs.filter((c) => c.once), walkId);
    ctxs = ctxs.filter((c) => !c.once);
    const reps: Function[] = [];
    for (const c of ctxs) if (c.rep && c.refreshed !== walkId && !reps.includes(c.rep)) reps.push(c.rep);
    if (reps.length && this.inspectorOk) {
      const views = this.safeInspect(reps);
      reps.forEach((f, i) => {
        const r = this.fns.get(f);
        if (!r) return;
        const scopes = closureScopes(views[i].scopes);
        r.v8.forEach((c, k) => {
          if (c && scopes[k]) {
            c.values = scopes[k];
            c.refreshed = walkId;
          }
        });
      });
    }
    for (const c of ctxs) c.refreshed = walkId;
  }

  /** re-read scopes of functions that run once: one function per scope, the innermost first
   * (its [[Scopes]] also show the scopes around it) */
  protected refreshOnce(ctxs: Ctx[], walkId: number): void {
    const todo = ctxs.filter((c) => c.refreshed !== walkId && !c.noV8 && c.rep).sort((a, b) => b.owner!.depth - a.owner!.depth);
    const reps: Function[] = [];
    const covered = new Set<Ctx>();
    for (const c of todo) {
      if (covered.has(c)) continue;
      const info = this.fns.get(c.rep!)?.info;
      reps.push(c.rep!);
      covered.add(c);
      for (const p of info?.parents ?? []) if (p.once) covered.add(this.onceCtx(p));
    }
    if (reps.length && this.inspectorOk) {
      const views = this.safeInspect(reps);
      reps.forEach((f, i) => {
        const parents = this.fns.get(f)?.info?.parents ?? [];
        const scopes = closureScopes(views[i].scopes);
        const hits = this.matchScopes(scopes, parents);
        parents.forEach((p, k) => {
          if (!p.once) return;
          const c = this.onceCtx(p);
          const at = hits.indexOf(k);
          if (at >= 0) Object.assign(c, { values: scopes[at], noV8: false });
          else if (views[i].scriptId !== null) Object.assign(c, { values: null, noV8: true });
          c.refreshed = walkId;
        });
      });
    }
    for (const c of ctxs) c.refreshed = walkId;
  }

}
