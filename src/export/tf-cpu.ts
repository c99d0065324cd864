// Export only reads weights (dataSync) and folds them in float64: the stock TF.js cpu backend is all it needs,
// and using it keeps `onestep export` independent of the training backend's native pieces.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

export async function useCpuBackend(): Promise<void> {
  tf.env().set('PROD', true); // silences the "install tfjs-node" banner, which is advice for training, not export
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
}
