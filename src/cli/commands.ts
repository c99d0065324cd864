// Every sub-command, one module each. Adding a command = one file + one line here.
// Command modules import heavy dependencies (TF.js, ONNX Runtime, MuJoCo) lazily inside their handlers,
// so `onestep --help` stays fast.
import type { CommandModule } from 'yargs';
import bench from './bench.ts';
import collect from './collect.ts';
import dataset from './dataset.ts';
import demo from './demo.ts';
import doctor from './doctor.ts';
import evalCommand from './eval.ts';
import exportCommand from './export.ts';
import param from './param.ts';
import profile from './profile.ts';
import replay from './replay.ts';
import serve from './serve.ts';
import service from './service.ts';
import simBridge from './sim-bridge.ts';
import sim from './sim.ts';
import topic from './topic.ts';
import train from './train.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [bench, collect, dataset, demo, doctor, evalCommand, exportCommand, param, profile, replay, serve, service, sim, simBridge, topic, train];
