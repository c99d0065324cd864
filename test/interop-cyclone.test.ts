// onestep's rtps transport against Cyclone DDS 0.10 (the C peer in test/peers), in private network namespaces.
import { defineInteropTests } from './peers/matrix.ts';

defineInteropTests('cyclone');
