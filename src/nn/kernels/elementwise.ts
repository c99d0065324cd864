// Monomorphic float32 kernels for the elementwise ops of an RL update (filled in after profiling).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

export function elementwiseConfigs(_stock: (name: string) => KernelFunc, _backendName: string): KernelConfig[] {
  return [];
}
