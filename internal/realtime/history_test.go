package realtime

import (
	"fmt"
	"strings"
	"testing"
)

func TestHistoryTail(t *testing.T) {
	h := history{maxTurns: 3, maxChars: 20}
	h.add("u1", roleUser, "")
	h.add("a1", roleAssistant, "hello")
	h.add("u1", roleUser, "hi") // transcript arrives after the reply started
	h.add("u2", roleUser, "what time")
	h.add("a2", roleAssistant, "noon")
	got := fmt.Sprint(h.tail())
	want := "[{a1 assistant hello} {u2 user what time} {a2 assistant noon}]"
	if got != want {
		t.Errorf("tail() = %s, want %s", got, want)
	}
	// The character bound keeps the newest turns.
	h.add("a3", roleAssistant, strings.Repeat("x", 17))
	if tail := h.tail(); len(tail) != 1 || tail[0].itemID != "a3" {
		t.Errorf("tail() = %v, want only a3 within 20 chars", tail)
	}
	// Memory stays bounded however long the conversation.
	for i := range 1000 {
		h.add(fmt.Sprint(i), roleUser, "x")
	}
	if len(h.turns) > 4*h.maxTurns {
		t.Errorf("history holds %d turns, want at most %d", len(h.turns), 4*h.maxTurns)
	}
}

// A reply cut short by the end of its session is replayed as far as it went, after
// its question: the items alternate one by one, none twice.
func TestHistoryCutReply(t *testing.T) {
	h := history{maxTurns: 16, maxChars: 8000}
	h.add("u1", roleUser, "what is the time?")
	h.said("a1", "It is ")
	h.said("a1", "noon.")
	h.add("a1", roleAssistant, "It is noon.") // response.done
	h.done("a1")
	h.add("u2", roleUser, "and the weather?")
	h.said("a2", "Sunny")
	h.audio("a2")
	h.said("a2", " and")
	h.settle() // the session ended
	h.settle() // twice changes nothing
	want := []turn{{"u1", roleUser, "what is the time?"}, {"a1", roleAssistant, "It is noon."},
		{"u2", roleUser, "and the weather?"}, {"a2", roleAssistant, "Sunny and"}}
	got := h.tail()
	if len(got) != len(want) {
		t.Fatalf("tail() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A reply cut before any of its audio came was never heard: it is not replayed,
// and the question, asked again, gets one answer after it, not two.
func TestHistoryCutBeforeAudio(t *testing.T) {
	h := history{maxTurns: 16, maxChars: 8000}
	h.add("u1", roleUser, "what is the time?")
	h.said("a1", "(a")
	h.settle()
	if got := h.tail(); len(got) != 1 || got[0].itemID != "u1" {
		t.Errorf("tail() = %v, want the question only", got)
	}
	h.add("u2", roleUser, "")
	h.add("u2", roleUser, "again")
	h.drop([]string{"u2"})
	if got := h.tail(); len(got) != 1 || got[0].itemID != "u1" {
		t.Errorf("after drop(u2): tail() = %v, want u1 only", got)
	}
}
