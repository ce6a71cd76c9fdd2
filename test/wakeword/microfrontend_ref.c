/* Test-vector generator for internal/wakeword (not built by go): links against TensorFlow Lite
   Micro's microfrontend (tensorflow/lite/experimental/microfrontend/lib, kissfft v130 with
   TFLM's patch, FIXED_POINT=16). Reads raw s16le 16 kHz mono on stdin and prints one line of
   40 values per frame; "tables" prints the window, PCAN table and filterbank weights. */
#include <stdio.h>
#include <string.h>
#include "tensorflow/lite/experimental/microfrontend/lib/frontend.h"
#include "tensorflow/lite/experimental/microfrontend/lib/frontend_util.h"
int main(int argc, char** argv) {
  struct FrontendConfig c; FrontendFillConfigWithDefaults(&c);
  c.window.size_ms = 30; c.window.step_size_ms = 10;
  c.filterbank.num_channels = 40; c.filterbank.lower_band_limit = 125.0; c.filterbank.upper_band_limit = 7500.0;
  c.noise_reduction.smoothing_bits = 10; c.noise_reduction.even_smoothing = 0.025; c.noise_reduction.odd_smoothing = 0.06;
  c.noise_reduction.min_signal_remaining = 0.05;
  c.pcan_gain_control.enable_pcan = 1; c.pcan_gain_control.strength = 0.95; c.pcan_gain_control.offset = 80.0; c.pcan_gain_control.gain_bits = 21;
  c.log_scale.enable_log = 1; c.log_scale.scale_shift = 6;
  struct FrontendState s;
  if (!FrontendPopulateState(&c, &s, 16000)) return 1;
  if (argc > 1 && !strcmp(argv[1], "tables")) {
    printf("window"); for (int i = 0; i < s.window.size; i++) printf(" %d", s.window.coefficients[i]); printf("\n");
    printf("start %d end %d\n", s.filterbank.start_index, s.filterbank.end_index);
    printf("pcan"); for (int i = 0; i < 125; i++) printf(" %d", s.pcan_gain_control.gain_lut[i]); printf("\n");
    printf("nr %d %d %d\n", s.noise_reduction.even_smoothing, s.noise_reduction.odd_smoothing, s.noise_reduction.min_signal_remaining);
    for (int ch = 0; ch <= 40; ch++) for (int j = 0; j < s.filterbank.channel_widths[ch]; j++) {
      int w = s.filterbank.weights[s.filterbank.channel_weight_starts[ch]+j], u = s.filterbank.unweights[s.filterbank.channel_weight_starts[ch]+j];
      if (w || u) printf("fb %d %d %d %d\n", ch, s.filterbank.channel_frequency_starts[ch]+j, w, u);
    }
    return 0;
  }
  int16_t buf[160];
  while (fread(buf, 2, 160, stdin) == 160) {
    size_t read;
    struct FrontendOutput o = FrontendProcessSamples(&s, buf, 160, &read);
    if (o.size) { for (size_t i = 0; i < o.size; i++) printf(i ? " %d" : "%d", o.values[i]); printf("\n"); }
  }
  return 0;
}
