package realtime

import "github.com/voiced-project/voiced/internal/race"

// Internal encoders and decoders, exported to the realtime_test package.

var (
	AppendAudioEvent = appendAudioEvent
	DecodePCM        = decodePCM
)

// ScanAudioDelta reports the item id and base64 delta the fast path finds.
func ScanAudioDelta(b []byte) (itemID, delta []byte, ok bool) {
	d, ok := scanAudioDelta(b)
	return d.itemID, d.delta, ok
}

// ClientEvents returns every kind of client event the client produces for
// a session in dialect d, encoded.
func ClientEvents(d Dialect, s Session) ([][]byte, error) {
	su, err := sessionUpdateEvent(d, &s)
	if err != nil {
		return nil, err
	}
	evs := []clientEvent{
		su,
		{Type: typeCommit},
		{Type: typeClear},
		{Type: typeResponseCreate},
		announceEvent("Say: the tea is ready."),
		{Type: typeResponseCancel},
		truncateEvent("item_abc", 0, 1530),
		{Type: typeItemCreate, Item: messageItem(d, roleUser, "what time is it?")},
		{Type: typeItemCreate, Item: messageItem(d, roleAssistant, "It is noon.")},
		{Type: typeItemCreate, Item: functionOutputItem("call_1", `{"ok":true}`)},
	}
	var out [][]byte
	for _, ev := range evs {
		b, err := encodeEvent(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	msg, _ := appendAudioEvent(nil, nil, []int16{0, 1, -1, 32767, -32768})
	return append(out, msg), nil
}

// RaceEnabled reports a -race build (allocation tests skip).
const RaceEnabled = race.Enabled
