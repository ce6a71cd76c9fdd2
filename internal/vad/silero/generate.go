package silero

//go:generate go run ./internal/onnxconv -in ../../../../shared/models/silero-vad/silero_vad_16k_op15.onnx -out weights.bin
