// Package tflite runs int8-quantised TensorFlow Lite models of the kind microWakeWord
// publishes: it reads the .tflite flatbuffer itself and interprets the handful of
// operators those streaming models use, with their resource variables kept between calls.
//
// # Arithmetic
//
// Every kernel follows the integer arithmetic of TensorFlow Lite's reference kernels
// (tensorflow/lite/kernels/internal/reference/integer_ops): int32 accumulation, int32
// bias, per-channel or per-tensor requantisation through a 32-bit fixed-point multiplier
// and shift with round-half-away-from-zero doubling-high-multiply and rounding right
// shift, then the output zero point and the activation clamp. Outputs are therefore the
// same bytes the reference kernels give.
//
// # Streaming
//
// The models keep their convolution histories in resource variables (VAR_HANDLE,
// READ_VARIABLE, ASSIGN_VARIABLE), zeroed by an initialisation subgraph that CALL_ONCE runs
// on the first invocation. An [Interpreter] owns all tensors, allocated once by [New];
// [Interpreter.Invoke] allocates nothing.
package tflite
