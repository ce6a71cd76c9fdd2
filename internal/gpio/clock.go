package gpio

import (
	"time"

	"github.com/voiced-project/voiced/internal/clock"
)

// Clock is the time source of the button and the LED; tests inject a fake one
// (clocktest.Clock) to check debounce and blink timing without sleeping.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) clock.Timer
	NewTicker(d time.Duration) clock.Ticker
}
