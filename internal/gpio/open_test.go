package gpio

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestResolveChip(t *testing.T) {
	chips := []ChipInfo{
		{Name: "gpiochip0", Label: "pinctrl-bcm2835", Path: "/dev/gpiochip0"},
		{Name: "gpiochip1", Label: "raspberrypi-exp-gpio", Path: "/dev/gpiochip1"},
	}
	tests := []struct {
		spec string
		want int
	}{
		{"", 0},
		{"gpiochip1", 1},
		{"raspberrypi-exp-gpio", 1},
		{"pinctrl-bcm2835", 0},
		{"/dev/gpiochip1", 1},
		{"1", 1},
	}
	for _, tt := range tests {
		if got, err := resolveChip(chips, tt.spec); err != nil || got != tt.want {
			t.Errorf("resolveChip(%q) = %d, %v, want %d", tt.spec, got, err, tt.want)
		}
	}
	_, err := resolveChip(chips, "gpiochip7")
	if !errors.Is(err, ErrNoChip) || !strings.Contains(err.Error(), "gpiochip7") || !strings.Contains(err.Error(), "pinctrl-bcm2835") {
		t.Errorf("resolveChip(gpiochip7) = %v, want ErrNoChip naming it and the chips there are", err)
	}
	_, err = resolveChip(nil, "")
	if !errors.Is(err, ErrNoChip) || !Unavailable(err) {
		t.Errorf("resolveChip(no chips) = %v, want ErrNoChip", err)
	}
}

func TestResolveLine(t *testing.T) {
	pi := ChipInfo{Name: "gpiochip0", Lines: make([]string, 28)}
	for i := range pi.Lines {
		pi.Lines[i] = "GPIO" + strconv.Itoa(i)
	}
	pi.Lines[3] = "SCL1"
	sim := ChipInfo{Name: "gpiochip1", Lines: make([]string, 28)}
	sim.Lines[17], sim.Lines[27] = "BUTTON", "gpiochip1-LED" // renamed by periph as a duplicate
	tests := []struct {
		chip ChipInfo
		spec string
		want int
	}{
		{pi, "GPIO17", 17},
		{pi, "17", 17},
		{pi, "SCL1", 3},
		{pi, "scl1", 3},
		{pi, "gpio22", 22},
		{sim, "BUTTON", 17},
		{sim, "LED", 27},
		{sim, "GPIO5", 5}, // unnamed: the number
		{sim, "0", 0},
	}
	for _, tt := range tests {
		if got, err := resolveLine(tt.chip, tt.spec); err != nil || got != tt.want {
			t.Errorf("resolveLine(%s, %q) = %d, %v, want %d", tt.chip.Name, tt.spec, got, err, tt.want)
		}
	}
	for _, bad := range []struct{ spec, says string }{
		{"28", "0 to 27"},
		{"-1", "0 to 27"},
		{"GPIO99", "0 to 27"},
		{"BUTTTON", "BUTTON"},
		{"", "no line"},
	} {
		_, err := resolveLine(sim, bad.spec)
		if !errors.Is(err, ErrNoLine) || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("resolveLine(%q) = %v, want ErrNoLine saying %q", bad.spec, err, bad.says)
		}
	}
}

func TestLineError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		consumer string
		kind     error
		errno    syscall.Errno
		says     []string
	}{
		{"busy flattened", errors.New("device or resource busy"), "", ErrBusy, syscall.EBUSY, []string{"gpiochip0", "GPIO17", "busy", "gpioinfo"}},
		{"busy with holder", errors.New("line_request ioctl: device or resource busy"), "pigpiod@412", ErrBusy, syscall.EBUSY, []string{"held by pigpiod@412"}},
		{"permission", &errnoError{err: errors.New("x"), errno: syscall.EACCES}, "", ErrPermission, syscall.EACCES, []string{"group gpio"}},
		{"no device", syscall.ENODEV, "", ErrNoLine, syscall.ENODEV, []string{"went away"}},
		{"other", errors.New("invalid argument"), "", ErrRefused, syscall.EINVAL, []string{"refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := lineError("request input", "gpiochip0", "GPIO17", tt.consumer, tt.err)
			if !errors.Is(err, tt.kind) || !errors.Is(err, tt.errno) || !Unavailable(err) {
				t.Errorf("lineError(%v) = %v, want errors.Is %v and %v", tt.err, err, tt.kind, tt.errno)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("lineError(%v) = %q, want it to say %q", tt.err, err, s)
				}
			}
		})
	}
	if _, ok := errnoOf(errors.New("something else")); ok {
		t.Error("errnoOf(unrelated text) found an errno")
	}
	if Unavailable(errors.New("plain")) {
		t.Error("Unavailable(plain error) = true")
	}
}

func TestPatternTable(t *testing.T) {
	for p := Pattern(0); p < numPatterns; p++ {
		spec := patterns[p]
		if spec.name == "" || len(spec.steps) == 0 {
			t.Fatalf("pattern %d has no name or steps", p)
		}
		for i, s := range spec.steps {
			if s.d <= 0 || s.d%tick != 0 {
				t.Errorf("%v step %d lasts %v, want a positive multiple of %v", p, i, s.d, tick)
			}
		}
		if !p.steady() {
			lit := false
			for _, s := range spec.steps {
				lit = lit || s.on
			}
			if !lit {
				t.Errorf("%v blinks but is never lit", p)
			}
		}
		if spec.color == 0 && p.at(0) {
			t.Errorf("%v lights up with no colour for an RGB LED", p)
		}
	}
	if Pattern(-1).String() != "Pattern(-1)" || numPatterns.String() != "Pattern(9)" {
		t.Errorf("invalid patterns print as %q and %q", Pattern(-1).String(), numPatterns.String())
	}
}
