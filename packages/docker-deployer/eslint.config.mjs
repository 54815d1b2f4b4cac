import { packageConfig } from '../../eslint.config.mjs';

// @types/dockerode is never imported, but the published .d.ts files import 'dockerode', so
// consumers need its types installed with this package
export default await packageConfig({ ignoredDependencies: ['@types/dockerode'] });
