module.exports = require('../../jest-config/jest-config.cjs').integration(__dirname);
