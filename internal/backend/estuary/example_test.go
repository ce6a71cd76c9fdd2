package estuary_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/estuary"
	"github.com/voiced-project/voiced/internal/backend/estuary/estuarytest"
)

// A push-to-talk turn against the fake service: press, speak, release, and
// the reply's text and voice come back.
func Example() {
	srv := httptest.NewServer(estuarytest.New(estuarytest.Options{APIKey: "est_demo"}))
	defer srv.Close()
	samples := 0
	c, err := estuary.New(estuary.Options{
		URL: srv.URL, APIKey: "est_demo", CharacterID: "char-1", PlayerID: "player-1",
		PushToTalk: true,
		Audio:      func(replyID string, pcm []int16, rate int) { samples += len(pcm) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	tone := make([]int16, 1600) // 100 ms at 16 kHz
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(float64(i)/8))
	}
	for ev := range c.Events() {
		switch ev.Kind {
		case backend.Connected:
			c.StartTurn()
			for range 3 {
				c.AppendAudio(tone)
			}
			c.EndTurn()
		case backend.Transcript:
			if ev.Final {
				fmt.Printf("%v: %s\n", map[backend.Role]string{backend.User: "user", backend.Assistant: "reply"}[ev.Role], ev.Text)
			}
		case backend.ReplyDone:
			fmt.Println("reply audio:", samples, "samples")
			cancel()
		}
	}
	// Output:
	// user: I spoke for 300 milliseconds
	// reply: You said: I spoke for 300 milliseconds
	// reply audio: 4800 samples
}
