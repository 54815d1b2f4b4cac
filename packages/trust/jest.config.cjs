module.exports = require('../../jest-config/jest-config.cjs').unit(__dirname);
