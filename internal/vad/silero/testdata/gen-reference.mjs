// Writes NAME.prob beside each NAME.wav given: Silero VAD's speech probability for
// every 512-sample step, from the ONNX Runtime, framed as package silero frames it
// (64 samples of context, the first step's context and state zero, a trailing
// partial step dropped). One value a line.
//
//   npm install --prefix /tmp/ort --ignore-scripts onnxruntime-node@1.19.2
//   NODE_PATH=/tmp/ort/node_modules node testdata/gen-reference.mjs MODEL.onnx testdata/*.wav
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

function readWav(path) {
  const b = readFileSync(path);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { ch: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.ch !== 1 || fmt.rate !== 16000 || fmt.bits !== 16) throw new Error(`${path}: want 16 kHz mono PCM16`);
      const n = size >> 1, x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = b.readInt16LE(off + 8 + 2 * i) / 32768;
      return x;
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

const [model, ...wavs] = process.argv.slice(2);
const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
for (const path of wavs) {
  const x = readWav(path);
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const ctx = new Float32Array(64), lines = [];
  for (let off = 0; off + 512 <= x.length; off += 512) {
    const inp = new Float32Array(576);
    inp.set(ctx, 0);
    inp.set(x.subarray(off, off + 512), 64);
    const out = await sess.run({ input: new ort.Tensor('float32', inp, [1, 576]), state, sr });
    state = out.stateN;
    ctx.set(x.subarray(off + 448, off + 512));
    lines.push(out.output.data[0].toPrecision(9));
  }
  writeFileSync(path.replace(/\.wav$/, '.prob'), lines.join('\n') + '\n');
  console.log(`${path}: ${lines.length} steps`);
}
