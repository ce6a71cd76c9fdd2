package vadeval

import (
	"strings"
	"testing"
)

func TestReadTurns(t *testing.T) {
	got, err := ReadTurns(strings.NewReader("# comment\na.wav 100 500 900 1500\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Turn{"a.wav", 100, 500, 900, 1500}); len(got) != 1 || got[0] != want {
		t.Errorf("ReadTurns = %+v, want [%+v]", got, want)
	}
	for _, bad := range []string{"a.wav 1 2 3\n", "a.wav 1 2 x 4\n", "a.wav 5 2 3 4\n"} {
		if _, err := ReadTurns(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadTurns(%q) = nil error, want one", bad)
		}
	}
}

// decisions marks 10 ms frames [from, to) of n as speech, in ms.
func decisions(n int, spans ...[2]int) []bool {
	out := make([]bool, n/10)
	for _, s := range spans {
		for k := s[0] / 10; k < s[1]/10; k++ {
			out[k] = true
		}
	}
	return out
}

func TestScoreTurns(t *testing.T) {
	turns := []Turn{
		{"t.wav", 1000, 1500, 2000, 2500}, // a 500 ms pause inside
		{"t.wav", 5000, 5500, 5800, 6500}, // 300 ms
		{"t.wav", 9000, 9500, 9900, 10500},
	}
	// The detector hears the parts, but nothing of the third turn.
	out := decisions(13000, [2]int{1000, 1500}, [2]int{2000, 2500}, [2]int{5000, 5500}, [2]int{5800, 6500})
	tests := []struct {
		silence         int
		cut, missed     int
		latency         []int
		p50, p95, turns int
	}{
		// 400 ms of silence: the first turn ends in its 500 ms pause.
		{silence: 400, cut: 1, missed: 1, latency: []int{400}, p50: 400, p95: 400},
		{silence: 600, cut: 0, missed: 1, latency: []int{600, 600}, p50: 600, p95: 600},
	}
	for _, tt := range tests {
		rep := TurnReport{SilenceMs: tt.silence}
		if err := scoreTurns(&rep, out, turns, 100); err != nil {
			t.Fatal(err)
		}
		if rep.Turns != 3 || rep.Cut != tt.cut || rep.Missed != tt.missed || len(rep.Latency) != len(tt.latency) {
			t.Fatalf("silence %d: %+v, want 3 turns, %d cut, %d missed, latencies %v", tt.silence, rep, tt.cut, tt.missed, tt.latency)
		}
		for i, l := range tt.latency {
			if rep.Latency[i] != l {
				t.Errorf("silence %d: latency %d = %d ms, want %d", tt.silence, i, rep.Latency[i], l)
			}
		}
		if rep.Percentile(0.5) != tt.p50 || rep.Percentile(0.95) != tt.p95 {
			t.Errorf("silence %d: p50 %d p95 %d, want %d %d", tt.silence, rep.Percentile(0.5), rep.Percentile(0.95), tt.p50, tt.p95)
		}
	}
}
