package clocktest_test

import (
	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/clock"
	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/gpio"
	"github.com/voiced-project/voiced/internal/realtime"
)

// The real clock and the fake satisfy every consumer's Clock.
var (
	_ gpio.Clock     = (*clock.Real)(nil)
	_ gpio.Clock     = (*clocktest.Clock)(nil)
	_ engine.Clock   = (*clock.Real)(nil)
	_ engine.Clock   = (*clocktest.Clock)(nil)
	_ alsa.Clock     = (*clock.Real)(nil)
	_ alsa.Clock     = (*clocktest.Clock)(nil)
	_ realtime.Clock = (*clock.Real)(nil)
	_ realtime.Clock = (*clocktest.Clock)(nil)
)
