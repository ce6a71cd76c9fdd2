package daemon

import (
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/gpio"
)

// ledAdapter shows the engine's patterns on the gpio LED; the two enums share an order
// by design, and the mapping names each one so a reordering cannot go unnoticed.
type ledAdapter struct{ led *gpio.LED }

var ledPatterns = map[engine.LEDPattern]gpio.Pattern{
	engine.LEDOff:          gpio.Off,
	engine.LEDConnecting:   gpio.Connecting,
	engine.LEDConnected:    gpio.Connected,
	engine.LEDListening:    gpio.Listening,
	engine.LEDProcessing:   gpio.Processing,
	engine.LEDSpeaking:     gpio.Speaking,
	engine.LEDDisconnected: gpio.Disconnected,
	engine.LEDMuted:        gpio.Muted,
	engine.LEDError:        gpio.Error,
}

func (a ledAdapter) SetPattern(p engine.LEDPattern) { a.led.SetPattern(ledPatterns[p]) }

var buttonEvents = map[gpio.EventKind]engine.ButtonEvent{
	gpio.Press:       engine.ButtonPress,
	gpio.Release:     engine.ButtonRelease,
	gpio.LongPress:   engine.ButtonLongPress,
	gpio.DoublePress: engine.ButtonDoublePress,
}
