module.exports = require('../../tools/jest/jest-config.cjs').integration(__dirname);
