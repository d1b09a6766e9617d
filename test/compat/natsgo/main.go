// A small nats.go client (Debian's golang-github-nats-io-go-nats-dev, built with
// GOPATH=/usr/share/gocode GO111MODULE=off) that exercises core NATS against a server and
// prints one JSON object with what it saw. It exits non-zero when something fails, with the
// reason on stderr; test/compat/natsgo.test.ts builds it and checks the JSON.
//
// Usage: natsgo <nats://host:port>
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

type result struct {
	ClientVersion   string   `json:"client_version"`
	ServerVersion   string   `json:"server_version"`
	HeadersSupport  bool     `json:"headers_support"`
	MaxPayload      int64    `json:"max_payload"`
	PubSub          []string `json:"pubsub"`
	Wildcard        []string `json:"wildcard"`
	QueueCounts     []int    `json:"queue_counts"`
	QueueDistinct   int      `json:"queue_distinct"`
	Reply           string   `json:"reply"`
	ReplyHeader     []string `json:"reply_header"`
	ReplyHeaderKeys string   `json:"reply_header_keys"`
	NoResponders    bool     `json:"no_responders"`
	AutoUnsub       int      `json:"auto_unsub"`
}

const wait = 2 * time.Second

func main() {
	if len(os.Args) != 2 {
		fail("usage: natsgo <url>")
	}
	nc, err := nats.Connect(os.Args[1], nats.Name("natsgo-compat"), nats.NoReconnect())
	check(err, "connect")
	defer nc.Close()

	r := result{ClientVersion: nats.Version, ServerVersion: nc.ConnectedServerVersion(), HeadersSupport: nc.HeadersSupported(), MaxPayload: nc.MaxPayload()}

	// Publish and subscribe, in order.
	sub, err := nc.SubscribeSync("go.ps")
	check(err, "subscribe")
	check(nc.Flush(), "flush")
	for i := 0; i < 5; i++ {
		check(nc.Publish("go.ps", []byte("m"+strconv.Itoa(i))), "publish")
	}
	for i := 0; i < 5; i++ {
		m, err := sub.NextMsg(wait)
		check(err, "next message")
		r.PubSub = append(r.PubSub, string(m.Data))
	}

	// Wildcards.
	wsub, err := nc.SubscribeSync("go.w.>")
	check(err, "subscribe wildcard")
	check(nc.Flush(), "flush")
	for _, s := range []string{"go.w", "go.w.a", "go.w.a.b", "go.x"} {
		check(nc.Publish(s, []byte(s)), "publish wildcard")
	}
	for i := 0; i < 2; i++ {
		m, err := wsub.NextMsg(wait)
		check(err, "next wildcard message")
		r.Wildcard = append(r.Wildcard, m.Subject)
	}

	// A queue group of three members on one connection: each message to exactly one.
	const queued = 300
	members := make([]*nats.Subscription, 3)
	for i := range members {
		members[i], err = nc.QueueSubscribeSync("go.q", "workers")
		check(err, "queue subscribe")
	}
	check(nc.Flush(), "flush")
	for i := 0; i < queued; i++ {
		check(nc.Publish("go.q", []byte(strconv.Itoa(i))), "publish queue")
	}
	check(nc.Flush(), "flush")
	seen := map[string]bool{}
	deadline := time.Now().Add(5 * time.Second)
	r.QueueCounts = make([]int, len(members))
	for len(seen) < queued && time.Now().Before(deadline) {
		for i, m := range members {
			msg, err := m.NextMsg(10 * time.Millisecond)
			if errors.Is(err, nats.ErrTimeout) {
				continue
			}
			check(err, "queue message")
			if seen[string(msg.Data)] {
				fail("queue message delivered twice: " + string(msg.Data))
			}
			seen[string(msg.Data)] = true
			r.QueueCounts[i]++
		}
	}
	r.QueueDistinct = len(seen)

	// Request/reply with headers: the service echoes the request's headers and adds its own.
	svc, err := nc.Subscribe("go.svc", func(m *nats.Msg) {
		resp := nats.NewMsg(m.Reply)
		for k, values := range m.Header {
			for _, v := range values {
				resp.Header.Add(k, v)
			}
		}
		resp.Header.Set("X-Service", "go")
		resp.Data = append([]byte("echo:"), m.Data...)
		_ = m.RespondMsg(resp)
	})
	check(err, "service subscribe")
	check(nc.Flush(), "flush")
	req := nats.NewMsg("go.svc")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	req.Data = []byte("hello")
	resp, err := nc.RequestMsg(req, wait)
	check(err, "request")
	r.Reply = string(resp.Data)
	r.ReplyHeader = append(append([]string{}, resp.Header.Values("X-Multi")...), resp.Header.Get("X-Service"))
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	r.ReplyHeaderKeys = fmt.Sprint(keys)
	check(svc.Unsubscribe(), "unsubscribe service")

	// No responders.
	_, err = nc.Request("go.nobody", []byte("x"), wait)
	r.NoResponders = errors.Is(err, nats.ErrNoResponders)

	// Auto-unsubscribe after 2 messages.
	asub, err := nc.SubscribeSync("go.auto")
	check(err, "subscribe auto")
	check(asub.AutoUnsubscribe(2), "auto unsubscribe")
	for i := 0; i < 5; i++ {
		check(nc.Publish("go.auto", []byte("a")), "publish auto")
	}
	check(nc.Flush(), "flush")
	for {
		if _, err := asub.NextMsg(200 * time.Millisecond); err != nil {
			break
		}
		r.AutoUnsub++
	}

	out, err := json.Marshal(r)
	check(err, "marshal")
	fmt.Println(string(out))
}

func check(err error, what string) {
	if err != nil {
		fail(what + ": " + err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "natsgo:", msg)
	os.Exit(1)
}
