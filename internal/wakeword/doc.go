// Package wakeword detects wake words with microWakeWord v2 models, in pure Go: the
// audio front end the models were trained with, an int8 TensorFlow Lite interpreter
// (package [github.com/voiced-project/voiced/internal/wakeword/tflite]) and the detection
// rule of each model's JSON manifest.
//
// # Front end
//
// [Frontend] is TensorFlow Lite Micro's microfrontend as ESPHome's micro_wake_word
// configures it: 30 ms Hann window every 10 ms, 512-point fixed-point FFT (KISS FFT's
// 16-bit arithmetic), 40 mel channels over 125-7500 Hz, noise reduction, PCAN gain
// control and log scale. Everything after table construction is integer arithmetic and
// gives the same values as the C code; the tables themselves are built in float32 the way
// the C code builds them, including fdlibm's log1pf, and match it exactly. Values become
// the models' int8 inputs through [Int8Feature].
//
// # Detection
//
// Each model consumes its input stride of feature steps (3, i.e. 30 ms, for the published
// models) and gives a probability 0..255. A word is detected when the mean of the last
// sliding_window_size probabilities exceeds probability_cutoff (both from the manifest).
// After a detection, and for the first second after start, no word is reported until
// the refractory time has passed with the latest probability under the cutoff, as in
// ESPHome.
package wakeword
