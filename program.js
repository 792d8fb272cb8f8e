"use strict";
// The program Pulumi runs (package.json "main"): index.ts, through load.js's transpile cache.
require("./load");
module.exports = require("./index.ts");
