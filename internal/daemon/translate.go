package daemon

import (
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/realtime"
)

// translate maps what the realtime client reports onto the engine's small vocabulary.
// ok is false for events the engine has no use for (they are logged or counted
// elsewhere).
func translate(ev realtime.Event) (engine.RealtimeEvent, bool) {
	switch e := ev.(type) {
	case *realtime.Connecting:
		return engine.RealtimeEvent{Kind: engine.RealtimeConnecting}, true
	case *realtime.Connected:
		return engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: e.SessionID, ExpiresAt: e.ExpiresAt}, true
	case *realtime.Disconnected:
		return engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: e.Err}, true
	case *realtime.Fatal:
		return engine.RealtimeEvent{Kind: engine.RealtimeFatal, Err: e.Err}, true
	case *realtime.SpeechStarted:
		return engine.RealtimeEvent{Kind: engine.RealtimeSpeechStarted, ItemID: e.ItemID}, true
	case *realtime.SpeechStopped:
		return engine.RealtimeEvent{Kind: engine.RealtimeSpeechStopped, ItemID: e.ItemID}, true
	case *realtime.AudioCommitted:
		return engine.RealtimeEvent{Kind: engine.RealtimeCommitted, ItemID: e.ItemID}, true
	case *realtime.TimeoutTriggered:
		// The server's idle timeout commits the buffer like a turn end.
		return engine.RealtimeEvent{Kind: engine.RealtimeCommitted, ItemID: e.ItemID}, true
	case *realtime.ResponseCreated:
		return engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: e.Response.ID}, true
	case *realtime.AudioDone:
		return engine.RealtimeEvent{Kind: engine.RealtimeAudioDone, ItemID: e.ItemID, ResponseID: e.ResponseID}, true
	case *realtime.ResponseDone:
		return engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: e.Response.ID, Status: e.Response.Status}, true
	case *realtime.InputTranscriptionDelta:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleUser, ItemID: e.ItemID, Text: e.Delta}, true
	case *realtime.InputTranscriptionCompleted:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleUser, ItemID: e.ItemID, Text: e.Transcript, Final: true}, true
	case *realtime.AudioTranscriptDelta:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Delta}, true
	case *realtime.AudioTranscriptDone:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Transcript, Final: true}, true
	case *realtime.TextDelta:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Delta}, true
	case *realtime.TextDone:
		return engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Text, Final: true}, true
	case *realtime.ServerError:
		return engine.RealtimeEvent{Kind: engine.RealtimeError, Code: e.Error.Code, Message: e.Error.Message}, true
	}
	return engine.RealtimeEvent{}, false
}
