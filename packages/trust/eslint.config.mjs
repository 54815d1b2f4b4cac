import { packageConfig } from '../../eslint.config.mjs';

export default await packageConfig();
