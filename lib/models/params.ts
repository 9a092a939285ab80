/**
 * Named, seeded trainable parameters. Every model keeps its weights in one `ParamStore` so the trainer,
 * checkpoints and the sampler can treat all models alike.
 */
import * as tf from '@tensorflow/tfjs';

export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  /** Constant tensors (masks) owned by the model, freed with it. */
  private readonly constants: tf.Tensor[] = [];
  private nextSeed: number;

  constructor(seed: number) {
    this.nextSeed = seed * 7919 + 1;
  }

  /** Uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)) weights, PyTorch's default scale for conv and linear layers. */
  weight(name: string, shape: number[], fanIn: number): tf.Variable {
    const bound = 1 / Math.sqrt(fanIn);
    return this.add(name, tf.randomUniform(shape, -bound, bound, 'float32', this.nextSeed++));
  }

  zeros(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.zeros(shape));
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.variables.has(name)) throw new Error(`duplicate parameter name ${name}`);
    const variable = tf.variable(init, true, `${name}_${Math.random().toString(36).slice(2, 8)}`);
    init.dispose();
    this.variables.set(name, variable);
    return variable;
  }

  /** Takes ownership of a constant tensor (a mask) so that `dispose` frees it. */
  constant<T extends tf.Tensor>(tensor: T): T {
    this.constants.push(tensor);
    return tensor;
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`no parameter named ${name}`);
    return v;
  }

  list(): tf.Variable[] {
    return [...this.variables.values()];
  }

  count(): number {
    let total = 0;
    for (const v of this.variables.values()) total += v.size;
    return total;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    for (const c of this.constants) c.dispose();
    this.constants.length = 0;
  }
}
