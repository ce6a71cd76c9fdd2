// Command vmprobe is the guest side of voiced's system tests (test/vm): small tools a
// busybox shell cannot do well, each a subcommand.
//
//	vmprobe led --sysfs DIR --line 27 --out led.log        sample an LED line's value over time
//	vmprobe events --url http://H:P --out events.log         record /v1/events with arrival times
//	vmprobe wait --url http://H:P --state S [--timeout D]    poll /v1/status until its state is S
//	vmprobe get --url http://H:P/v1/status --field a.b.c     print one field of a JSON document
//	vmprobe pull --sysfs DIR --line 17 --value V --log F     set a simulated pull, log when
//	vmprobe capture --device D --rate R --seconds N --out F  record with a wall-clock time per read
//	vmprobe play --device D [--log F] WAV                    play a WAV, log when it started and ended
//	vmprobe correlate --got F --want F [--min C]             envelope correlation of two WAVs
//	vmprobe silence --wav F --at F [--within D]              how soon the audio went quiet after an event
//	vmprobe ledcheck --led F --events F STATE=PATTERN...     the LED showed each state's pattern
//	vmprobe agree --url http://H:P --events F                /v1/status agrees with /v1/events
//	vmprobe delay --to HOST:PORT --latency D                 a TCP proxy that delays the server's bytes
//	vmprobe room --cue F --log F --record F                  play voiced's speaker into its microphone
//	                                                         through a room, and a user's voice on cue
//
// Times in its files are Unix milliseconds of the guest's clock, so the logs of several
// vmprobe processes and the daemon's event times line up.
package main
