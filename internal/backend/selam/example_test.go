package selam_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/selam"
	"github.com/voiced-project/voiced/internal/backend/selam/selamtest"
)

// A turn against the fake agent in Amharic, then a control action with its
// acknowledgement.
func Example() {
	srv := httptest.NewServer(selamtest.New(selamtest.Options{APIKey: "sk-selam-demo"}))
	defer srv.Close()
	samples := 0
	c, err := selam.New(selam.Options{
		URL: srv.URL, APIKey: "sk-selam-demo", Voice: "mekdes", Language: "am",
		Audio: func(replyID string, pcm []int16, rate int) { samples += len(pcm) },
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
			for range 3 {
				c.AppendAudio(tone)
			}
			c.EndTurn() // trailing silence: the agent's detector ends the turn
		case backend.Transcript:
			if ev.Final && ev.Role == backend.User {
				fmt.Println("user:", ev.Text)
			}
		case backend.ReplyDone:
			fmt.Println("reply audio:", samples, "samples at 24 kHz")
			c.Control(backend.ActionPause)
		case backend.ControlAck:
			fmt.Println("acknowledged:", ev.Action)
			cancel()
		}
	}
	// Output:
	// user: I spoke for 800 milliseconds
	// reply audio: 19200 samples at 24 kHz
	// acknowledged: pause
}
