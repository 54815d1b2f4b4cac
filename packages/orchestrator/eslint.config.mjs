import { packageConfig } from '../../eslint.config.mjs';

// graphql-scalars: a peer dependency of type-graphql 2.0.0-rc.4, pinned to the 1.x its peer range accepts
export default await packageConfig({ ignoredDependencies: ['graphql-scalars'] });
