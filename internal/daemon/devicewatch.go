package daemon

import (
	"context"
	"strings"
	"time"
)

// deviceWatch is how often a vanished sound device is looked for: the LED shows it
// within this, and voiced reopens the device by itself when it returns.
const deviceWatch = 500 * time.Millisecond

// watchDevices shows an unplugged microphone or speaker as a fault (the LED's error
// pattern) for as long as it is gone; the conversation state alone would look as if
// all were well.
func (rt *runtime) watchDevices(ctx context.Context) error {
	rt.mu.Lock()
	mic, spk := rt.cfg.Audio.Capture.Device, rt.cfg.Audio.Playback.Device // not live: fixed for the runtime
	rt.mu.Unlock()
	t := time.NewTicker(deviceWatch)
	defer t.Stop()
	micGone, spkGone := false, false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		m, s := rt.capDev.Gone(), rt.playDev.Gone()
		if m == micGone && s == spkGone {
			continue
		}
		micGone, spkGone = m, s
		rt.engine.SetFault(goneProblem(mic, spk, m, s))
	}
}

// goneProblem says in words which sound devices have disappeared, "" when none has.
func goneProblem(mic, spk string, micGone, spkGone bool) string {
	var gone []string
	if micGone {
		gone = append(gone, "the microphone "+mic)
	}
	if spkGone {
		gone = append(gone, "the speaker "+spk)
	}
	if len(gone) == 0 {
		return ""
	}
	return strings.Join(gone, " and ") + " disappeared (unplugged?); voiced picks it up again when it returns"
}
