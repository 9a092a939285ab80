/**
 * Gradients of a scalar loss with respect to variables, like `tf.variableGrads`, but freeing memory during the
 * backward pass as PyTorch's autograd does.
 *
 * tfjs's engine walks the tape backwards and keeps, until the whole backward pass has finished, every tensor the
 * forward kernels saved for it and the gradient of every intermediate tensor. A training step's peak memory is
 * then all saved activations plus all activation gradients: for gated MNIST at batch 64 that is most of the
 * wasm heap's 1.3 GiB. Here each node's saved tensors and the gradients of its outputs are disposed as soon as
 * its own gradient has been computed: nothing else reads them (each tensor is produced by one node, and the tape
 * is in execution order). The arithmetic is tfjs's own (the same kernels and gradient functions in the same
 * order), so the gradients are identical to `tf.variableGrads`'s.
 *
 * This reaches into the engine's tape (`state.activeTape`, `startTape`/`endTape`), which tfjs does not export
 * as API; should a tfjs version lack those, and inside another gradient computation (higher-order gradients),
 * tfjs's own `variableGrads` runs instead.
 */
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

function engineInternals(): EngineInternals | undefined {
  const engine = tf.engine() as unknown as Partial<EngineInternals>;
  const ok = typeof engine.scopedRun === 'function' && typeof engine.startTape === 'function' &&
    typeof engine.endTape === 'function' && typeof engine.state?.gradientDepth === 'number';
  return ok ? engine as EngineInternals : undefined;
}

/** A tape node on the path from the variables to the loss, with only its inputs that depend on a variable. */
interface PathNode {
  node: TapeNode;
  inputs: [string, tf.Tensor][];
}

/** The nodes of `tape` that depend on one of `xs` and lead to `y`, in tape order. */
function nodesBetween(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): PathNode[] {
  const fromXs = new Set(xs.map((x) => x.id));
  const dependsOnXs = tape.map((node) => {
    const hit = Object.values(node.inputs).some((t) => fromXs.has(t.id));
    if (hit) for (const o of node.outputs) fromXs.add(o.id);
    return hit;
  });
  const towardsY = new Set([y.id]);
  const leadsToY = new Array<boolean>(tape.length).fill(false);
  for (let i = tape.length - 1; i >= 0; i--) {
    if (!tape[i].outputs.some((o) => towardsY.has(o.id))) continue;
    leadsToY[i] = true;
    for (const t of Object.values(tape[i].inputs)) towardsY.add(t.id);
  }
  const path: PathNode[] = [];
  tape.forEach((node, i) => {
    if (dependsOnXs[i] && leadsToY[i]) path.push({ node, inputs: Object.entries(node.inputs).filter(([, t]) => fromXs.has(t.id)) });
  });
  return path;
}

/**
 * `{ value, grads }` as `tf.variableGrads(f, variables)` returns them (grads by variable name; a variable the loss
 * does not depend on has none). The caller owns the returned tensors.
 */
export function variableGradsFreeing(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = engineInternals();
  if (!engine || engine.state.gradientDepth > 0 || engine.state.activeTape) return tf.variableGrads(f, variables);
  const xs = variables.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error('variableGradsFreeing: none of the variables is trainable');
  const y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy('forward', f));
  const tape: TapeNode[] = (engine.state as { activeTape: TapeNode[] | null }).activeTape ?? []; // startTape made it
  try {
    if (!(y instanceof tf.Tensor) || y.rank !== 0) throw new Error(`variableGradsFreeing: the loss must be a scalar tensor, got ${y instanceof tf.Tensor ? `rank ${y.rank}` : typeof y}`);
    const grads = engine.tidy('backward', () => backward(nodesBetween(tape, xs, y), xs, y));
    return { value: y, grads };
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
}

/** Walks `path` backwards from dL/dy = 1; returns the gradients of `xs` by name. */
function backward(path: PathNode[], xs: tf.Variable[], y: tf.Scalar): tf.NamedTensorMap {
  const gradOf = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
  const stored = (t: tf.Tensor) => { for (const g of gradOf.values()) if (g === t) return true; return false; };
  for (let i = path.length - 1; i >= 0; i--) {
    const { node, inputs } = path[i];
    if (!node.gradient) throw new Error(`variableGradsFreeing: no gradient function for the kernel ${node.kernelName}`);
    const dys = node.outputs.map((o) => gradOf.get(o.id) ?? null);
    const gradients = node.gradient(dys);
    const garbage: tf.Tensor[] = [];
    for (const [name, x] of inputs) {
      if (!(name in gradients)) throw new Error(`variableGradsFreeing: ${node.kernelName} has no gradient for its input ${name}`);
      const dx = tf.tidy(() => gradients[name]());
      if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`variableGradsFreeing: the gradient of ${node.kernelName}'s input ${name} is ${dx.dtype} [${dx.shape}], expected float32 [${x.shape}]`);
      }
      const previous = gradOf.get(x.id);
      if (!previous) {
        gradOf.set(x.id, dx);
        continue;
      }
      gradOf.set(x.id, tf.add(previous, dx));
      garbage.push(previous, dx);
    }
    // Nothing reads this node's outputs' gradients or its saved tensors again (disposed only now: a gradient
    // function may return its dy itself, and the node's other inputs' gradients read it).
    for (const o of node.outputs) {
      const g = gradOf.get(o.id);
      gradOf.delete(o.id);
      if (g) garbage.push(g);
    }
    for (const t of garbage) if (!stored(t)) t.dispose();
    for (const t of node.saved ?? []) t.dispose();
  }
  const grads: tf.NamedTensorMap = {};
  for (const x of xs) {
    const g = gradOf.get(x.id);
    if (g) grads[x.name] = g;
  }
  return grads;
}
