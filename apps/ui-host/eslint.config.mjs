import { packageConfig } from '../../eslint.config.mjs';

// public/ is the copied, minified UI bundle (apps/ui/dist): build output, not source.
export default [...(await packageConfig()), { ignores: ['public/**'] }];
