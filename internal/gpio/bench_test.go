package gpio_test

import (
	"testing"

	"github.com/voiced-project/voiced/internal/clock"
	"github.com/voiced-project/voiced/internal/gpio"
	"github.com/voiced-project/voiced/internal/gpio/gpiotest"
	pgpio "periph.io/x/conn/v3/gpio"
)

// BenchmarkButtonEdgeToEvent measures what the button adds between an edge and its
// event on the channel (no debounce window, real clock, fake line).
func BenchmarkButtonEdgeToEvent(b *testing.B) {
	line := gpiotest.NewLine("BUTTON", &clock.Real{}, pgpio.Low)
	btn, err := gpio.NewButton(line, gpio.ButtonConfig{Debounce: -1, LongPress: -1, DoublePress: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer btn.Close()
	level := pgpio.High
	b.ReportAllocs()
	for b.Loop() {
		line.Edge(level)
		<-btn.Events()
		level = !level
	}
}
