package siotest

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/backend/sio"
)

// Session is one client connection as a fake's protocol sees it, a
// pointer type. The Hub calls its methods from the connection's reader
// goroutine.
type Session interface {
	comparable
	// Connect handles the namespace CONNECT (recorded as "connect"); false
	// ends the connection.
	Connect(data []byte) bool
	// Event handles one event; id is its ack id, -1 when none. False ends
	// the connection.
	Event(name string, arg []byte, id int) bool
	// Malformed is told of an EVENT packet that could not be split.
	Malformed(err error)
	// Close stops what the session started (a reply under way); the Hub
	// then waits for the goroutines started with Conn.Go.
	Close()
}

// Conn is a connection of a Hub: an sio.Conn joined to the Hub's namespace.
type Conn struct {
	*sio.Conn
	nsp string
	wg  sync.WaitGroup
}

// Emit writes an event with one argument (nil for none) on the namespace.
func (c *Conn) Emit(name string, arg any) { c.Conn.Emit(c.nsp, -1, name, arg) }

// Join accepts the namespace CONNECT with socket id sid.
func (c *Conn) Join(sid string) {
	c.WriteRaw(sio.AppendConnect(nil, c.nsp, []byte(`{"sid":"`+sid+`"}`)))
}

// Refuse answers the namespace CONNECT with CONNECT_ERROR and payload v.
func (c *Conn) Refuse(v any) {
	b, _ := json.Marshal(v)
	c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, c.nsp, -1), b...))
}

// Ack answers event id, when it asked for an answer.
func (c *Conn) Ack(id int) {
	if id >= 0 {
		c.WriteRaw(sio.AppendAck(nil, c.nsp, id, nil))
	}
}

// Leave disconnects the client from the namespace.
func (c *Conn) Leave() { c.Conn.Leave(c.nsp) }

// Go runs f on a goroutine that the connection waits for when it ends.
func (c *Conn) Go(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// Hub serves the connections of one namespace of a fake service.
type Hub[S Session] struct {
	nsp string
	o   sio.ServerOptions
	Recorder

	mu       sync.Mutex // guards following fields
	sessions map[S]*Conn
	down     bool
}

// NewHub returns a Hub for namespace nsp that announces o and records to rec
// (nil for none).
func NewHub[S Session](nsp string, o sio.ServerOptions, rec io.Writer) *Hub[S] {
	return &Hub[S]{nsp: nsp, o: o, Recorder: Recorder{w: rec}, sessions: map[S]*Conn{}}
}

// Sessions returns the live connections' sessions.
func (h *Hub[S]) Sessions() []S {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := make([]S, 0, len(h.sessions))
	for s := range h.sessions {
		list = append(list, s)
	}
	return list
}

// SetDown makes the server refuse upgrades with 503 (true) or serve again.
func (h *Hub[S]) SetDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

// Drop closes every connection, as a restart does.
func (h *Hub[S]) Drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.sessions {
		c.Close()
	}
}

// Serve serves one Socket.IO connection: it sends the open packet, pings
// every PingInterval and hands the packets of the namespace to the session
// that open makes, until either side ends the connection.
func (h *Hub[S]) Serve(w http.ResponseWriter, r *http.Request, open func(*Conn) S) {
	h.mu.Lock()
	down := h.down
	h.mu.Unlock()
	if down {
		http.Error(w, "restarting", http.StatusServiceUnavailable)
		return
	}
	sc, err := sio.Accept(w, r, h.o)
	if err != nil {
		return
	}
	c := &Conn{Conn: sc, nsp: h.nsp}
	s := open(c)
	h.mu.Lock()
	h.sessions[s] = c
	h.mu.Unlock()
	stop := make(chan struct{})
	c.Go(func() { heartbeat(sc, stop) })
	defer func() {
		close(stop)
		sc.Close()
		s.Close()
		c.wg.Wait()
		h.mu.Lock()
		delete(h.sessions, s)
		h.mu.Unlock()
	}()
	for {
		p, err := sc.Read()
		if err != nil || !h.packet(c, s, p) {
			return
		}
	}
}

// heartbeat pings until stop is closed or a ping cannot be written.
func heartbeat(c *sio.Conn, stop <-chan struct{}) {
	t := time.NewTicker(time.Duration(c.Handshake().PingInterval) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if c.Ping() != nil {
				return
			}
		}
	}
}

// packet handles one packet; false ends the connection.
func (h *Hub[S]) packet(c *Conn, s S, p sio.Packet) bool {
	if string(p.Namespace) != h.nsp {
		if p.Type == sio.TypeConnect {
			c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, string(p.Namespace), -1), `{"message":"Invalid namespace"}`...))
		}
		return true
	}
	switch p.Type {
	case sio.TypeConnect:
		h.Record("connect", p.Data, -1)
		return s.Connect(p.Data)
	case sio.TypeDisconnect:
		h.Record("disconnect", nil, -1)
		return false
	case sio.TypeEvent:
		name, arg, err := sio.SplitEvent(p.Data)
		if err != nil {
			s.Malformed(err)
			return true
		}
		return s.Event(string(name), arg, p.ID)
	}
	return true
}

// Record is one event a client sent.
type Record struct {
	Event string
	Arg   json.RawMessage
	AckID int // -1 when none
}

// Recorder keeps what clients sent, in order, and writes each record as a
// JSON line {"event":...,"arg":...} when it has a writer.
type Recorder struct {
	w io.Writer

	mu      sync.Mutex // guards following fields
	records []Record
}

// Record adds an event with its argument and ack id (-1 for none).
func (r *Recorder) Record(ev string, arg []byte, id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, Record{Event: ev, Arg: append(json.RawMessage(nil), arg...), AckID: id})
	if r.w != nil {
		line, _ := json.Marshal(struct {
			Event string          `json:"event"`
			Arg   json.RawMessage `json:"arg,omitempty"`
		}{ev, r.records[len(r.records)-1].Arg})
		r.w.Write(append(line, '\n'))
	}
}

// Records returns what the clients sent, in order.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Count returns how many times event was received.
func (r *Recorder) Count(event string) int {
	n := 0
	for _, x := range r.Records() {
		if x.Event == event {
			n++
		}
	}
	return n
}
