package daemon

import (
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/realtime"
)

// translate maps what the realtime client reports onto the engine's small vocabulary.
// ok is false for events the engine has no use for (they are logged or counted
// elsewhere).
func translate(ev realtime.Event) (pipeline.RealtimeEvent, bool) {
	switch e := ev.(type) {
	case *realtime.Connecting:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting}, true
	case *realtime.Connected:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: e.SessionID, ExpiresAt: e.ExpiresAt}, true
	case *realtime.Disconnected:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeDisconnected, Err: e.Err}, true
	case *realtime.Fatal:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeFatal, Err: e.Err}, true
	case *realtime.SpeechStarted:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeSpeechStarted, ItemID: e.ItemID}, true
	case *realtime.SpeechStopped:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeSpeechStopped, ItemID: e.ItemID}, true
	case *realtime.AudioCommitted:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeCommitted, ItemID: e.ItemID}, true
	case *realtime.TimeoutTriggered:
		// The server's idle timeout commits the buffer like a turn end.
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeCommitted, ItemID: e.ItemID}, true
	case *realtime.ResponseCreated:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseCreated, ResponseID: e.Response.ID}, true
	case *realtime.AudioDone:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeAudioDone, ItemID: e.ItemID, ResponseID: e.ResponseID}, true
	case *realtime.ResponseDone:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseDone, ResponseID: e.Response.ID, Status: e.Response.Status}, true
	case *realtime.InputTranscriptionDelta:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleUser, ItemID: e.ItemID, Text: e.Delta}, true
	case *realtime.InputTranscriptionCompleted:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleUser, ItemID: e.ItemID, Text: e.Transcript, Final: true}, true
	case *realtime.AudioTranscriptDelta:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Delta}, true
	case *realtime.AudioTranscriptDone:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Transcript, Final: true}, true
	case *realtime.TextDelta:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Delta}, true
	case *realtime.TextDone:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Role: pipeline.RoleAssistant, ItemID: e.ItemID, ResponseID: e.ResponseID, Text: e.Text, Final: true}, true
	case *realtime.ServerError:
		return pipeline.RealtimeEvent{Kind: pipeline.RealtimeError, Code: e.Error.Code, Message: e.Error.Message}, true
	}
	return pipeline.RealtimeEvent{}, false
}
