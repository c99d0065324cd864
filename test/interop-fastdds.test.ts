// onestep's rtps transport against Fast DDS 2.9 (the C++ peer in test/peers), in private network namespaces.
import { defineInteropTests } from './peers/matrix.ts';

defineInteropTests('fastdds');
