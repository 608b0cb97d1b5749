// `wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int` over every module named
// on the command line, in this one process. npm's Binaryen is itself WebAssembly: each `wasm-opt`
// process compiles it again (about half a second), so strata-site loads it once per core here.
import binaryen from 'binaryen';
import { readFileSync, writeFileSync } from 'node:fs';

binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
binaryen.setDebugInfo(false);
for (const file of process.argv.slice(2)) {
  const module = binaryen.readBinary(readFileSync(file));
  module.setFeatures(
    module.getFeatures() |
      binaryen.Features.MutableGlobals |
      binaryen.Features.SignExt |
      binaryen.Features.BulkMemory |
      binaryen.Features.NontrappingFPToInt,
  );
  if (!module.validate()) {
    throw new Error(`${file} is not valid WebAssembly`);
  }
  module.optimize();
  writeFileSync(file, module.emitBinary());
  module.dispose();
}
