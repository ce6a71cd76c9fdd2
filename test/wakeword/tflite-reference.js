// Reference probabilities from TensorFlow Lite for internal/wakeword tests, from the TFLite
// WASM runtime in npm @tensorflow/tfjs-tflite (a test-data generator, not a dependency):
//   npm pack @tensorflow/tfjs-tflite@0.0.1-alpha.10 && tar xzf tensorflow-tfjs-tflite-*.tgz
//   TFJS_TFLITE=./package node tflite-reference.js MODEL.tflite FEATURES.feat > OUT.txt
// prints one uint8 per invocation.
const path = require('path');
const fs = require('fs');
const factory = require(path.join(path.resolve(process.env.TFJS_TFLITE || 'package'), 'wasm/tflite_web_api_cc.js'));
(async () => {
  const M = await factory({wasmBinary: fs.readFileSync(path.join(path.resolve(process.env.TFJS_TFLITE || 'package'), 'wasm/tflite_web_api_cc.wasm')), printErr: () => {}});
  const buf = fs.readFileSync(process.argv[2]);
  const feats = new Int8Array(fs.readFileSync(process.argv[3]).buffer.slice(0));
  const ptr = M._malloc(buf.length);
  M.HEAPU8.set(buf, ptr);
  const r = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, buf.length, {numThreads: Number(process.env.THREADS || 1), enableProfiling: false, maxProfilingBufferEntries: 1024});
  if (!r.ok()) throw new Error(r.errorMessage());
  const runner = r.value();
  const inT = runner.GetInputs().get(0), outT = runner.GetOutputs().get(0);
  const stride = Number(inT.shape.split(',')[1]) * 40;
  const out = [];
  for (let off = 0; off + stride <= feats.length; off += stride) {
    // The runtime may move tensors on an invocation: look them up each time.
    const d = runner.GetInputs().get(0).data();
    for (let i = 0; i < stride; i++) d[i] = feats[off + i];
    if (!runner.Infer()) throw new Error('infer failed');
    out.push(runner.GetOutputs().get(0).data()[0]);
  }
  console.log(out.join(' '));
})().catch(e => { console.error('ERR', e); process.exit(1); });
