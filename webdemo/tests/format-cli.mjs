// Run mnist-format.js on test cases, for tests/test_web_preprocessing.py.
//
// Usage: node webdemo/tests/format-cli.mjs INPUT.json OUTPUT.json
//
// INPUT.json holds a list of cases {name, width, height, rgba, invert}: `rgba` is the
// base64 of the width × height × 4 RGBA bytes, row by row (a canvas's ImageData), and
// `invert` is null, true or false. OUTPUT.json receives, for each case in order, either
// {name, result, inverted, box, scaled} (`result`: the 784 grey levels, row by row;
// `scaled`: {width, height, data} of the scaled digit) or {name, error} for an
// ImageInputError.

import { readFileSync, writeFileSync } from "node:fs";

import { ImageInputError, formatSteps, rgbaToGrey } from "../src/mnist-format.js";

function run({ name, width, height, rgba, invert }) {
  const bytes = new Uint8Array(Buffer.from(rgba, "base64"));
  try {
    const steps = formatSteps(rgbaToGrey(bytes, width, height), width, height, { invert });
    const { result, inverted, box, scaled } = steps;
    return { name, result: Array.from(result), inverted, box, scaled: { ...scaled, data: Array.from(scaled.data) } };
  } catch (error) {
    if (error instanceof ImageInputError) return { name, error: error.message };
    throw error;
  }
}

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("Usage: node format-cli.mjs INPUT.json OUTPUT.json");
  process.exit(2);
}
const cases = JSON.parse(readFileSync(input, "utf8"));
writeFileSync(output, JSON.stringify(cases.map(run)));
