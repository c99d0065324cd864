// Builds the "cpu-blas" backend: the stock TF.js cpu backend (same storage, same kernels) with the kernels
// that dominate a SAC update replaced by ours. Registered under its own name so stock "cpu" stays available
// in the same process for comparisons and tests.
import * as tf from '@tensorflow/tfjs-core';
import type { Blas } from './blas.ts';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul.ts';
import { denseActivationGradConfig, denseBiasGradConfig, denseForwardConfig } from './dense.ts';
import { elementwiseConfigs } from './elementwise.ts';
import { denseLayerNormConfig, layerNormForwardConfig, layerNormGradConfig, layerNormJvpConfig } from './layernorm.ts';
import { PooledCpuBackend } from './cpu.ts';

export const CPU_BLAS_BACKEND = 'cpu-blas';

/**
 * Creates a cpu backend instance that recycles its output buffers (cpu.ts), without TF.js's "install tfjs-node"
 * banner (doctor explains the choice instead).
 */
export function quietCpuBackend(): PooledCpuBackend {
  const backend = new PooledCpuBackend();
  (backend as unknown as { firstUse: boolean }).firstUse = false;
  return backend;
}

let registeredWith: Blas | null = null;
let replaced: string[] = [];

/** The OpenBLAS behind the cpu-blas backend, once registered (the optimisers use its saxpy/sscal/sdot). */
export function cpuBlas(): Blas | null {
  return registeredWith;
}

/** Registers (once) the cpu-blas backend over `blas`; returns the names of the kernels it replaces or adds. */
export function registerCpuBlasBackend(blas: Blas): string[] {
  if (registeredWith) return replaced;
  const stockKernels = tf.getKernelsForBackend('cpu');
  if (stockKernels.length === 0) throw new Error('the TF.js cpu backend has no kernels registered (import @tensorflow/tfjs-backend-cpu first)');
  tf.registerBackend(CPU_BLAS_BACKEND, quietCpuBackend, 0);
  for (const config of stockKernels) tf.registerKernel({ ...config, backendName: CPU_BLAS_BACKEND });
  const stock = (name: string) => {
    const config = tf.getKernel(name, 'cpu');
    if (!config) throw new Error(`stock cpu kernel ${name} is missing`);
    return config.kernelFunc;
  };
  const ours: tf.KernelConfig[] = [
    batchMatMulConfig(blas, stock('BatchMatMul'), CPU_BLAS_BACKEND),
    fusedMatMulConfig(blas, stock('_FusedMatMul'), CPU_BLAS_BACKEND),
    denseForwardConfig(blas, CPU_BLAS_BACKEND),
    denseActivationGradConfig(CPU_BLAS_BACKEND),
    denseBiasGradConfig(blas, CPU_BLAS_BACKEND),
    layerNormForwardConfig(CPU_BLAS_BACKEND),
    layerNormGradConfig(CPU_BLAS_BACKEND),
    layerNormJvpConfig(CPU_BLAS_BACKEND),
    denseLayerNormConfig(blas, CPU_BLAS_BACKEND),
    ...elementwiseConfigs(stock, CPU_BLAS_BACKEND),
  ];
  for (const config of ours) {
    if (tf.getKernel(config.kernelName, CPU_BLAS_BACKEND)) tf.unregisterKernel(config.kernelName, CPU_BLAS_BACKEND);
    tf.registerKernel(config);
  }
  registeredWith = blas;
  replaced = ours.map((c) => c.kernelName);
  return replaced;
}
