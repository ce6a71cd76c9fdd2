package gpio

import (
	"testing"
	"time"
	"unsafe"

	pgpio "periph.io/x/conn/v3/gpio"
)

// TestUAPILayout pins struct sizes, offsets and ioctl numbers to what gcc reports
// for <linux/gpio.h> on amd64, arm (gnueabihf) and arm64 alike.
func TestUAPILayout(t *testing.T) {
	var req gpioV2LineRequest
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(gpio_v2_line_request)", unsafe.Sizeof(req), 592},
		{"offsetof(gpio_v2_line_request, config)", unsafe.Offsetof(req.config), 288},
		{"offsetof(gpio_v2_line_request, num_lines)", unsafe.Offsetof(req.numLines), 560},
		{"offsetof(gpio_v2_line_request, fd)", unsafe.Offsetof(req.fd), 588},
		{"sizeof(gpio_v2_line_config)", unsafe.Sizeof(gpioV2LineConfig{}), 272},
		{"offsetof(gpio_v2_line_config, attrs)", unsafe.Offsetof(req.config.attrs), 32},
		{"sizeof(gpio_v2_line_config_attribute)", unsafe.Sizeof(gpioV2LineConfigAttribute{}), 24},
		{"sizeof(gpio_v2_line_values)", unsafe.Sizeof(gpioV2LineValues{}), 16},
		{"GPIO_V2_GET_LINE_IOCTL", gpioV2GetLineIoctl, 0xc250b407},
		{"GPIO_V2_LINE_SET_CONFIG_IOCTL", gpioV2LineSetConfigIoctl, 0xc110b40d},
		{"GPIO_V2_LINE_GET_VALUES_IOCTL", gpioV2LineGetValuesIoctl, 0xc010b40e},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestLineConfig(t *testing.T) {
	tests := []struct {
		name     string
		pull     pgpio.Pull
		edge     pgpio.Edge
		debounce time.Duration
		flags    uint64
		us       uint64 // 0: no debounce attribute
	}{
		{"both edges, pull-up, 5 ms", pgpio.PullUp, pgpio.BothEdges, 5 * time.Millisecond, 1<<2 | 1<<4 | 1<<5 | 1<<8, 5000},
		{"falling, pull-down", pgpio.PullDown, pgpio.FallingEdge, 0, 1<<2 | 1<<5 | 1<<9, 0},
		{"rising, bias off, 250 us", pgpio.Float, pgpio.RisingEdge, 250 * time.Microsecond, 1<<2 | 1<<4 | 1<<10, 250},
		{"as is, no edges", pgpio.PullNoChange, pgpio.NoEdge, 0, 1 << 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lineConfig(tt.pull, tt.edge, tt.debounce)
			if c.flags != tt.flags {
				t.Errorf("flags = %#x, want %#x", c.flags, tt.flags)
			}
			switch {
			case tt.us == 0 && c.numAttrs != 0:
				t.Errorf("numAttrs = %d, want 0", c.numAttrs)
			case tt.us != 0 && (c.numAttrs != 1 || c.attrs[0].attr.id != 3 || c.attrs[0].attr.value != tt.us || c.attrs[0].mask != 1):
				t.Errorf("attrs[0] = %+v (n=%d), want debounce (id 3) of %d us on line bit 0", c.attrs[0], c.numAttrs, tt.us)
			}
		})
	}
}
