module.exports = require('../../tools/jest/jest-config.cjs').unit(__dirname);
