package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/voiced-project/voiced/internal/realtime"
)

// A push-to-talk client: the engine appends audio while the button is
// held, then commits and asks for a response; replies play through the
// audio sink.
func Example() {
	prof := realtime.OpenAI
	url, _ := prof.URL("", "", "")
	tools := realtime.NewTools()
	_ = tools.Add(realtime.Tool{
		Def: realtime.ToolDef{Name: "get_time", Description: "The local time."},
		Run: func(context.Context, json.RawMessage) (string, error) {
			return fmt.Sprintf(`{"time":%q}`, time.Now().Format("15:04")), nil
		},
	})
	c, err := realtime.New(realtime.Options{
		URL: url, Profile: prof, APIKey: "sk-...", Logger: slog.Default(),
		Session: realtime.Session{Instructions: "Be brief.", Voice: "marin"}, // no turn detection: push-to-talk
		Tools:   tools,
		Audio:   func(itemID string, pcm []int16) { /* copy into the playback ring */ },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	for ev := range c.Events() {
		switch e := ev.(type) {
		case *realtime.Connected:
			// Button released after AppendAudio calls:
			_ = c.CommitAudio()
			_ = c.CreateResponse()
		case *realtime.Fatal:
			fmt.Println(e.Err) // for example "realtime: the API key was rejected (HTTP 401) invalid_api_key"
			return
		case *realtime.ResponseDone:
			return
		}
	}
}

// The send side the engine calls (see the project's contracts), and the
// on-demand connector.
var _ interface {
	AppendAudio(pcm []int16) error
	CommitAudio() error
	ClearAudio() error
	CreateResponse() error
	CancelResponse() error
	TruncateItem(itemID string, contentIndex, audioEndMs int) error
	UpdateSession(s realtime.Session) error
	Dial()
	Hangup()
} = (*realtime.Client)(nil)
