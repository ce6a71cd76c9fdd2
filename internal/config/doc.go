// Package config is voiced's one configuration schema: the YAML file
// (/etc/voiced/voiced.yaml), its documented defaults, overrides by dotted path
// (`--set audio.capture.device=file:q.wav`), secrets from files or the environment,
// validation that reports every mistake at once with its field path, a JSON form with the
// same field names for the HTTP API, and an atomic save.
//
// # Decoding
//
// Files, --set values and HTTP bodies all go through one decoder that walks the YAML node
// tree against the Config struct (JSON is valid YAML), so an unknown key, a wrong type
// and an out-of-range value are all reported by field path, together, and nothing is
// applied unless everything is valid.
//
// # Secrets
//
// realtime.api_key and http.token are never printed or served: Redacted replaces them
// with "***", and a "***" sent back over HTTP (Patch, Replace), or the field left out,
// keeps the value in force. "***" is never a key or a token, and a token must look random
// (TokenProblem).
//
// # Trust
//
// The file and --set are trusted as they are. A change over HTTP is not: CheckRemote
// keeps it off the paths section and bounds the files it may name to paths.audio_dirs
// and paths.secret_dirs, and only when paths.http_changes allows. Nothing may name the
// config file itself (ValidateAt). Every document is bounded in nesting and alias
// expansion before it is decoded, and Save writes only what loads back the same.
package config
