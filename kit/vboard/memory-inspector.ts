// V8's view of the image's functions and their closure scopes, through node:inspector
// (in-process, synchronous), for the memory model (memory.ts).
import inspector from 'node:inspector';

// ------------------------------------------------------------------ the inspector

export interface RemoteObject { type: string; subtype?: string; objectId?: string; value?: unknown; description?: string }
export interface PropertyDescriptor { name: string; value?: RemoteObject }
export interface ScopeEntry { description: string; object: Record<string, unknown> }

export let session: inspector.Session | null = null;
export let sessionFailed = false;

export function post<T>(method: string, params: object): T {
  if (!session) throw new Error('no inspector session');
  let result: T | undefined;
  let error: Error | null = null;
  let done = false;
  session.post(method, params, (e: Error | null, r: unknown) => {
    error = e;
    result = r as T;
    done = true;
  });
  if (!done) throw new Error(`inspector: ${method} did not answer synchronously`);
  if (error) throw error;
  return result as T;
}

export function connect(): boolean {
  if (session) return true;
  if (sessionFailed) return false;
  try {
    session = new inspector.Session();
    session.connect();
    return true;
  } catch {
    session = null;
    sessionFailed = true;
    return false;
  }
}

export const GROUP = 'vboard-memory';
/** Host-side hand-over slots: objects are put here and read back by the inspector. */
export const handIn: unknown[] = [];
export const handOut: unknown[] = [];
export const HAND = '__vboardMemoryHand';

/** V8's view of a function: where it was defined, its closure scopes (innermost first), bound target. */
export interface FnView {
  scriptId: string | null;
  line: number;
  col: number;
  scopes: ScopeEntry[];
  bound: { target: unknown; args: unknown[] } | null;
}

/** Reads [[FunctionLocation]], [[Scopes]] and bound-function internals of each function. */
export function inspectFunctions(fns: Function[]): FnView[] {
  handIn.length = 0;
  handIn.push(...fns);
  const g = globalThis as Record<string, unknown>;
  g[HAND] = [handIn, handOut];
  try {
    const pair = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis.${HAND}`, objectGroup: GROUP }).result;
    const two = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: pair.objectId, ownProperties: true, objectGroup: GROUP }).result;
    const inId = two.find((p) => p.name === '0')!.value!.objectId!;
    const outId = two.find((p) => p.name === '1')!.value!.objectId!;
    const items = post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: inId, ownProperties: true, objectGroup: GROUP }).result;
    const ids = new Map<string, string>();
    for (const p of items) if (p.value?.objectId && /^\d+$/.test(p.name)) ids.set(p.name, p.value.objectId);
    const fetch = (objectId: string): unknown => {
      post('Runtime.callFunctionOn', { objectId, functionDeclaration: 'function(o){o.push(this)}', arguments: [{ objectId: outId }], objectGroup: GROUP });
      return handOut.pop();
    };
    const views: FnView[] = [];
    for (let i = 0; i < fns.length; i++) {
      const view: FnView = { scriptId: null, line: -1, col: -1, scopes: [], bound: null };
      views.push(view);
      const id = ids.get(String(i));
      if (!id) continue;
      const props = post<{ internalProperties?: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: id, ownProperties: true, objectGroup: GROUP });
      for (const ip of props.internalProperties ?? []) {
        if (ip.name === '[[FunctionLocation]]' && ip.value?.value) {
          const v = ip.value.value as { scriptId: string; lineNumber: number; columnNumber: number };
          view.scriptId = v.scriptId;
          view.line = v.lineNumber;
          view.col = v.columnNumber;
        } else if (ip.name === '[[Scopes]]' && ip.value?.objectId) {
          const arr = fetch(ip.value.objectId) as ArrayLike<ScopeEntry> | undefined;
          view.scopes = arr ? Array.from(arr) : [];
        } else if (ip.name === '[[TargetFunction]]' && ip.value?.objectId) {
          view.bound = view.bound ?? { target: null, args: [] };
          view.bound.target = fetch(ip.value.objectId);
        } else if (ip.name === '[[BoundArgs]]' && ip.value?.objectId) {
          view.bound = view.bound ?? { target: null, args: [] };
          const a = fetch(ip.value.objectId) as ArrayLike<unknown> | undefined;
          view.bound.args = a ? Array.from(a) : [];
        }
      }
    }
    return views;
  } finally {
    handIn.length = 0;
    handOut.length = 0;
    delete g[HAND];
    try {
      post('Runtime.releaseObjectGroup', { objectGroup: GROUP });
    } catch {
      /* ignore */
    }
  }
}
